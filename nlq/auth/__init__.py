"""Authentication: password hashing now; tokens and login routes build on it."""
