"""Sub-commands beyond `key`: each lives with the stage it drives and registers itself here."""
