"""HTTP routes of the gateway; thin functions that delegate to the sharing flow."""
