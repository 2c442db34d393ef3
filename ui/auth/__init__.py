"""The sign-in gate and the public forms (reset, verify, register)."""
