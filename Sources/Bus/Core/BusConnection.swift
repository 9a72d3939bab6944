import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// One message bus connection. Not thread-safe: use it only on the thread running its
/// `EventLoop` or, for a simple client without a loop, only on one thread.
public final class BusConnection {
    let bus: OpaquePointer
    private let registry = ObjectRegistry()
    private var objectSlots: [OpaquePointer] = []

    private init(bus: OpaquePointer) {
        self.bus = bus
    }

    deinit {
        for slot in objectSlots {
            sd_bus_slot_unref(slot)
        }
        sd_bus_flush_close_unref(bus)
    }

    /// The system bus. sd-bus honours DBUS_SYSTEM_BUS_ADDRESS, which is how tests point
    /// everything at a private bus.
    public static func system(description: String? = nil) throws(BusError) -> BusConnection {
        var bus: OpaquePointer?
        let opened = sd_bus_open_system_with_description(&bus, description)
        guard opened >= 0, let bus else {
            let address = getenv("DBUS_SYSTEM_BUS_ADDRESS").map { String(cString: $0) } ?? "unix:path=/run/dbus/system_bus_socket"
            throw .errno(opened, "connecting to the system bus at \(address)")
        }
        return BusConnection(bus: bus)
    }

    public static func connect(address: String) throws(BusError) -> BusConnection {
        var created: OpaquePointer?
        let new = sd_bus_new(&created)
        guard new >= 0, let bus = created else { throw .errno(new, "creating a bus connection") }
        var result = sd_bus_set_address(bus, address)
        if result >= 0 { result = sd_bus_set_bus_client(bus, 1) }
        if result >= 0 { result = sd_bus_start(bus) }
        guard result >= 0 else {
            sd_bus_unref(bus)
            throw .errno(result, "connecting to the bus at \(address)")
        }
        return BusConnection(bus: bus)
    }

    /// The connection's unique name (":1.42"), once the bus has answered Hello.
    public var uniqueName: String {
        get throws(BusError) {
            var name: UnsafePointer<CChar>?
            let result = sd_bus_get_unique_name(bus, &name)
            guard result >= 0, let name else { throw .errno(result, "asking the bus for this connection's name") }
            return String(cString: name)
        }
    }

    /// Becomes the primary owner of `name`, or fails saying why: another connection owns it,
    /// or the bus policy does not allow this user to own it (the bus's own message says so).
    public func requestName(_ name: String) throws(BusError) {
        guard sd_bus_service_name_is_valid(name) > 0, !name.hasPrefix(":") else {
            throw BusError(name: BusError.invalidArgs, message: "'\(name)' is not a valid well-known bus name")
        }
        // Asked directly rather than through sd_bus_request_name, which turns the bus's
        // explanation of a policy refusal into a bare EACCES.
        let doNotQueue: UInt32 = 4
        let reply: [BusValue]
        do throws(BusError) {
            reply = try call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus",
                             member: "RequestName", arguments: [.string(name), .uint32(doNotQueue)])
        } catch where error.name == BusError.accessDenied {
            throw BusError(name: error.name, message: "the bus policy does not let uid \(getuid()) own \(name) (\(error.message)); "
                + "install the D-Bus policy file for \(name) in /usr/share/dbus-1/system.d, or run as the user it allows")
        }
        switch reply.first?.uint32Value {
        case 1, 4:
            return
        case 3:
            throw BusError(name: BusError.failed,
                           message: "the bus name \(name) is already owned by another connection; is another instance running?")
        default:
            throw BusError(name: BusError.failed, message: "the bus gave an unexpected answer when asked for \(name)")
        }
    }

    /// Exports `handler` at `path` with `interfaces` (several per object). The connection keeps
    /// the handler for as long as it exists.
    public func export(_ handler: BusObjectHandler, path: String, interfaces: [BusInterfaceDescription]) throws(BusError) {
        guard sd_bus_object_path_is_valid(path) > 0 else {
            throw BusError(name: BusError.invalidArgs, message: "'\(path)' is not a valid object path")
        }
        guard registry.interfaces[path] == nil else {
            throw BusError(name: BusError.invalidArgs, message: "an object is already exported at \(path)")
        }
        var names = Set<String>()
        for interface in interfaces {
            try interface.validate()
            guard !StandardInterfaces.names.contains(interface.name) else {
                throw BusError(name: BusError.invalidArgs, message: "\(interface.name) is provided for every object and cannot be exported")
            }
            guard names.insert(interface.name).inserted else {
                throw BusError(name: BusError.invalidArgs, message: "interface \(interface.name) is given twice for \(path)")
            }
        }
        let object = Unmanaged.passRetained(ExportedObject(path: path, handler: handler, interfaces: interfaces, registry: registry))
        var slot: OpaquePointer?
        let added = sd_bus_add_object(bus, &slot, path, { message, userdata, _ in
            guard let message, let userdata else { return 0 }
            Unmanaged<ExportedObject>.fromOpaque(userdata).takeUnretainedValue().dispatch(message)
            return 1
        }, object.toOpaque())
        guard added >= 0, let slot else {
            object.release()
            throw .errno(added, "exporting an object at \(path)")
        }
        sd_bus_slot_set_destroy_callback(slot) { userdata in
            guard let userdata else { return }
            Unmanaged<ExportedObject>.fromOpaque(userdata).release()
        }
        objectSlots.append(slot)
        registry.add(path: path, interfaces: interfaces)
    }

    /// Emits a signal. When the object at `path` exports `interface` and declares the signal,
    /// the arguments must have the declared signature.
    public func emitSignal(path: String, interface: String, member: String, arguments: [BusValue]) throws(BusError) {
        if let declared = registry.description(path: path, interface: interface)?.signal(named: member)?.signature {
            let signature = arguments.map(\.signature).joined()
            guard signature == declared else {
                throw BusError(name: BusError.invalidArgs,
                               message: "signal \(interface).\(member) is declared with signature '\(declared)', not '\(signature)'")
            }
        }
        try send(signal: path, interface: interface, member: member, arguments: arguments)
    }

    /// Emits org.freedesktop.DBus.Properties.PropertiesChanged as the object's descriptions
    /// promise: a property declared `.invalidates` is listed as invalidated without its value,
    /// and one declared `.constant` or `.none` is left out. Nothing is sent when nothing is left.
    /// For an interface this connection does not export, the lists are sent as given.
    public func emitPropertiesChanged(path: String, interface: String, changed: [(String, BusValue)],
                                      invalidated: [String] = []) throws(BusError) {
        let description = registry.description(path: path, interface: interface)
        var values: [(String, BusValue)] = []
        var names = invalidated
        for (name, value) in changed {
            guard let description else {
                values.append((name, value))
                continue
            }
            guard let property = description.property(named: name) else {
                throw BusError(name: BusError.invalidArgs, message: "interface \(interface) on \(path) has no property \(name)")
            }
            guard value.signature == property.signature else {
                throw BusError(name: BusError.invalidArgs, message: "property \(name) of \(interface) is declared with type "
                    + "'\(property.signature)', not '\(value.signature)'")
            }
            switch property.change {
            case .emits: values.append((name, value))
            case .invalidates: names.append(name)
            case .constant, .none: break
            }
        }
        guard !values.isEmpty || !names.isEmpty else { return }
        try send(signal: path, interface: StandardInterfaces.properties.name, member: "PropertiesChanged",
                 arguments: [.string(interface), .dictionary(values), .array(elementSignature: "s", names.map(BusValue.string))])
    }

    private func send(signal path: String, interface: String, member: String, arguments: [BusValue]) throws(BusError) {
        var message: OpaquePointer?
        let created = sd_bus_message_new_signal(bus, &message, path, interface, member)
        guard created >= 0, let message else { throw .errno(created, "creating signal \(interface).\(member) on \(path)") }
        defer { sd_bus_message_unref(message) }
        try BusValue.append(arguments, to: message)
        let sent = sd_bus_send(bus, message, nil)
        if sent < 0 { throw .errno(sent, "sending signal \(interface).\(member) from \(path)") }
    }

    /// Lets the loop's thread do this connection's I/O and dispatch. The loop exits (with
    /// EXIT_FAILURE) when the bus goes away, since nothing will ever arrive again.
    public func attach(to loop: EventLoop) throws(BusError) {
        let attached = sd_bus_attach_event(bus, loop.event, 0)
        if attached < 0 { throw .errno(attached, "attaching the bus connection to the event loop") }
        sd_bus_set_exit_on_disconnect(bus, 1)
        registry.loop = loop
    }

    /// For loop-less clients: processes what is pending, waits up to `timeout` seconds for
    /// more, and processes that too.
    public func processEvents(timeout: Double) throws(BusError) {
        try processPending()
        let waited = sd_bus_wait(bus, microseconds(timeout))
        if waited < 0 && waited != -EINTR { throw .errno(waited, "waiting for bus traffic") }
        try processPending()
    }

    private func processPending() throws(BusError) {
        while true {
            let processed = sd_bus_process(bus, nil)
            if processed < 0 { throw .errno(processed, "processing bus traffic") }
            if processed == 0 { return }
        }
    }

    /// Writes out everything queued, blocking until it is sent.
    public func flush() {
        // A failure means the connection is gone, which the next call reports.
        sd_bus_flush(bus)
    }
}
