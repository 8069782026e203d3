package system.authz_test

import data.system.authz

_token := "a-gateway-token-of-32-characters"

_runtime := {"env": {"OPA_GATEWAY_TOKEN": _token}}

test_health_needs_no_token if {
	authz.allow with input as {"method": "GET", "path": ["health"]} with opa.runtime as _runtime
}

test_no_token_reads_nothing if {
	not authz.allow with input as {"method": "POST", "path": ["v1", "data", "safeguarding", "decision"]}
		with opa.runtime as _runtime
}

test_missing_input_admits_nothing if {
	not authz.allow with input as {} with opa.runtime as _runtime
}

test_gateway_decides_and_reads if {
	every path in [["v1", "data", "safeguarding", "decision"], ["v1", "policies"]] {
		authz.allow with input as {"method": "POST", "path": path, "identity": _token} with opa.runtime as _runtime
	}
}

test_gateway_replaces_the_registry if {
	authz.allow with input as {"method": "PUT", "path": ["v1", "data", "registry"], "identity": _token}
		with opa.runtime as _runtime
}

test_nobody_writes_a_policy_or_other_data if {
	every request in [
		{"method": "PUT", "path": ["v1", "policies", "policies/safeguarding/decision/decision.rego"]},
		{"method": "PUT", "path": ["v1", "data", "safeguarding", "config"]},
		{"method": "PATCH", "path": ["v1", "data", "registry"]},
		{"method": "DELETE", "path": ["v1", "data", "registry"]},
	] {
		not authz.allow with input as object.union(request, {"identity": _token}) with opa.runtime as _runtime
	}
}

test_nobody_reads_this_module if {
	not authz.allow with input as {"method": "POST", "path": ["v1", "data", "system", "authz"], "identity": _token}
		with opa.runtime as _runtime
}

test_a_wrong_or_short_token_admits_nothing if {
	request := {"method": "POST", "path": ["v1", "data", "safeguarding", "decision"]}
	not authz.allow with input as object.union(request, {"identity": "another-token-of-32-characters!!"})
		with opa.runtime as _runtime
	not authz.allow with input as object.union(request, {"identity": "short"})
		with opa.runtime as {"env": {"OPA_GATEWAY_TOKEN": "short"}}
	not authz.allow with input as request with opa.runtime as {"env": {}}
}
