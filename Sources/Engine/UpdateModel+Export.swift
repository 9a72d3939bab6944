// The wire types (status, records, codes) moved out of Engine into UpdateModel so that the
// D-Bus client can use them without linking the engine. Everything that imports Engine, and
// every file in it, still sees them as before.
@_exported import UpdateModel
