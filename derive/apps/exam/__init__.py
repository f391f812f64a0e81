"""`derive exam`: seeded variants, their documents, keys and the Moodle quiz."""
