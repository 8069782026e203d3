# Message text within its bounds: the receipt (schemas/api.py RuleReason) and the decision log
# (audit/models.py Reason) hold a finding's message to 500 characters, and the gateway refuses a
# decision that breaks the limit (no share, 503), so every message built from input, registry or
# pack values goes through `fit`, and lists that grow with the input through `few`. Same package
# as context.rego.
package safeguarding.context

import data.safeguarding.config

# METADATA
# title: The most characters a finding's message may have
# description: The receipt's and the decision log's limit (schemas/policy_decision.py MAX_MESSAGE).
max_message := 500

# METADATA
# title: A message within the receipt's limit
# description: >-
#   The message itself when it fits, as every message of the shipped pack does (the tests check
#   each pack-driven wording); otherwise its first characters and an ellipsis, so an oversized
#   registry name or pack entry shortens one finding instead of leaving the notification undecided.
fit(text) := text if count(text) <= max_message

else := sprintf("%s…", [substring(text, 0, max_message - 1)])

# METADATA
# title: The first few items of a list, then how many more
# description: >-
#   "A", "A or B", "A, B or C", then past `n` items "A, B, C or 4 more purposes": `conj` joins the
#   last item, `more` names what the count counts. A list the sender sets the length of (a
#   consent's scope) stays readable and bounded.
few(items, n, conj, more) := sprintf("%s %s %d %s", [concat(", ", array.slice(items, 0, n)), conj, count(items) - n, more]) if {
	count(items) > n
} else := sprintf("%s %s %s", [concat(", ", array.slice(items, 0, count(items) - 1)), conj, items[count(items) - 1]]) if {
	count(items) > 1
} else := concat("", items)

# METADATA
# title: Exception codes in words
# description: >-
#   The pack's label of each code (`exception_labels`), in code order, the first three and how
#   many more: one label per record, and the records are as many as the sender gives.
exception_words(codes) := few([exception_label(code) | some code in sort(codes)], 3, "and", "more")

# METADATA
# title: One exception code in words, for whom the notification is about
# description: >-
#   On a notification about an adult (`adult_message_types`), the adult's wording where the pack
#   words a code for a child (`exception_labels_adult`: serious harm to an adult, not significant
#   harm to a child, as CPSCP-Procedures, Information sharing, names the two risks).
exception_label(code) := config.exception_labels_adult[code] if {
	about_adult
} else := object.get(config.exception_labels, code, words(code))

# METADATA
# title: The notification is about an adult
# description: >-
#   An adult safeguarding or MARAC referral (`adult_message_types`): its words speak of the person,
#   not a child or their parents.
about_adult if input.message_type in config.adult_message_types

# METADATA
# title: Whom forced marriage or honour-based violence puts at risk, in words
# description: >-
#   "the young person", as the forced marriage procedure speaks of them; on an adult's notification
#   (a MARAC or adult safeguarding referral) "the person" (sg-policy-0.7.25).
victim := "the person" if about_adult

else := "the young person"
