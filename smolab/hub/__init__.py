"""The skill hub (`smolab hub`): groups share skills and evidence; evolution publishes new versions."""
