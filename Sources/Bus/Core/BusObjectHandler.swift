/// What an exported object implements. Called on the bus thread.
public protocol BusObjectHandler: AnyObject {
    /// Handles a call to one of the object's own methods (`call.interface` says which
    /// interface): reply now, or keep `call` and reply later.
    func handle(_ call: BusMethodCall)

    /// The current value of a property of `interface`; nil answers UnknownProperty. A value
    /// whose type differs from the declared one is answered with Failed.
    func property(_ name: String, interface: String) -> BusValue?
}
