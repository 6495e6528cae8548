"""Pure domain logic: no I/O, only the standard library and msgspec."""
