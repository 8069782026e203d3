# OPA's own API authorisation, loaded beside policies/ when OPA runs with
# `--authentication=token --authorization=basic` (docker-compose.yml). Without it anyone who reaches
# OPA could replace the policy that decides what is shared, and the log would name the old rules.
#
# Admitted: the health check, which carries no token, and the gateway's SGB_OPA_TOKEN (given to OPA
# as OPA_GATEWAY_TOKEN) to read policies and data, ask for decisions and replace `data.registry`.
# Nobody may write a policy module or any other data through the API: policies/ changes by redeploy.
package system.authz

# METADATA
# title: What OPA's API admits
# description: Nothing unless a rule below admits it; missing input admits nothing.
default allow := false

# METADATA
# title: The health check, without a token
allow if {
	input.method == "GET"
	input.path == ["health"]
}

# METADATA
# title: The gateway reads policies and data and asks for decisions
allow if {
	gateway
	input.method in {"GET", "POST"}
	input.path[0] == "v1"
	input.path[1] in {"data", "policies"}
	not reads_system
}

# METADATA
# title: The gateway replaces the registry, and nothing else
allow if {
	gateway
	input.method == "PUT"
	input.path == ["v1", "data", "registry"]
}

# METADATA
# title: The caller holds the gateway's token
# description: A token shorter than 16 characters is a mistake, not a secret; nothing is admitted with it.
gateway if {
	token := opa.runtime().env.OPA_GATEWAY_TOKEN
	count(token) >= 16
	crypto.hmac.equal(input.identity, token)
}

# METADATA
# title: A read of this module's own document
# description: Nobody needs to evaluate it through the API.
reads_system if input.path[2] == "system"
