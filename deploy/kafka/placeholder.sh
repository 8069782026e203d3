# Sourced by start.sh and access.sh: the same refusal as the gateway's and consumers' (broker/settings.py)
# of a secret left empty or copied from .env.example.
refuse_placeholder() {
  case "${2,,}" in
    "" | changeme | changethis | password)
      echo "$1 is empty or a placeholder: set a real one" >&2
      exit 1
      ;;
  esac
}
