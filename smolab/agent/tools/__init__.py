"""Tools the agent's code can call; each runs on the host behind the approval policy."""
