"""The web app (`smolab serve`): pages, the live view of runs, approvals and artifacts."""
