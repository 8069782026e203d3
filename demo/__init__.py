"""`make demo`: a fictional partnership run on the local stack (never imported by the product or the tests)."""
