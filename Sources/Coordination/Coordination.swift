// The module is being built: see docs/fleet.md.
