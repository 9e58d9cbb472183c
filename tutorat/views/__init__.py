"""Blueprints, one per audience: main (public), auth, api, mentee, tutor, referent, admin."""
