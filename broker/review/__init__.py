"""Review: who may see and decide what, the review queues, decision views and the sender's status view."""
