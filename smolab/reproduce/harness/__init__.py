"""Scripts smolab runs inside the sandbox, next to a generated repository (never imported)."""
