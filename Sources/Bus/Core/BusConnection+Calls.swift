import CSystemd

/// Calling methods on other bus peers.
extension BusConnection {
    /// A blocking call. While it waits, sd-bus reads other incoming messages and queues them
    /// for the next dispatch; it does not run their handlers. Timeout in seconds.
    public func call(destination: String, path: String, interface: String, member: String,
                     arguments: [BusValue] = [], timeout: Double = 25) throws(BusError) -> [BusValue] {
        try Self.call(on: bus, destination: destination, path: path, interface: interface, member: member,
                      arguments: arguments, timeout: timeout)
    }

    /// `call` on a raw connection, for code that has only a message's bus.
    static func call(on bus: OpaquePointer, destination: String, path: String, interface: String, member: String,
                     arguments: [BusValue], timeout: Double) throws(BusError) -> [BusValue] {
        let message = try methodCall(on: bus, destination: destination, path: path, interface: interface, member: member,
                                     arguments: arguments)
        defer { sd_bus_message_unref(message) }
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer?
        let called = sd_bus_call(bus, message, microseconds(timeout), &error, &reply)
        guard called >= 0, let reply else {
            throw .from(error, code: called, what: "calling \(interface).\(member) on \(destination)")
        }
        defer { sd_bus_message_unref(reply) }
        return try BusValue.readAll(from: reply)
    }

    /// Sends the call and returns at once; `completion` runs on the bus thread with the reply,
    /// the error, or NoReply when `timeout` seconds pass or the bus goes away. It does not run
    /// if this connection is released first.
    public func callAsync(destination: String, path: String, interface: String, member: String,
                          arguments: [BusValue] = [], timeout: Double = 25,
                          completion: @escaping (Result<[BusValue], BusError>) -> Void) throws(BusError) {
        let message = try Self.methodCall(on: bus, destination: destination, path: path, interface: interface, member: member,
                                          arguments: arguments)
        defer { sd_bus_message_unref(message) }
        typealias Completion = CallbackBox<(Result<[BusValue], BusError>) -> Void>
        let box = Unmanaged.passRetained(Completion(completion))
        var slot: OpaquePointer?
        let sent = sd_bus_call_async(bus, &slot, message, { reply, userdata, _ in
            guard let reply, let userdata else { return 0 }
            Unmanaged<Completion>.fromOpaque(userdata).takeUnretainedValue().callback(BusConnection.outcome(of: reply))
            return 0
        }, box.toOpaque(), microseconds(timeout))
        guard sent >= 0, let slot else {
            box.release()
            throw .errno(sent, "calling \(interface).\(member) on \(destination)")
        }
        sd_bus_slot_set_destroy_callback(slot) { userdata in
            guard let userdata else { return }
            Unmanaged<Completion>.fromOpaque(userdata).release()
        }
        // Floating: the bus keeps the slot until the reply has been handled, then frees it,
        // which releases the completion through the destroy callback.
        sd_bus_slot_set_floating(slot, 1)
        sd_bus_slot_unref(slot)
    }

    /// One property, through org.freedesktop.DBus.Properties.Get; the variant is unwrapped.
    public func getProperty(destination: String, path: String, interface: String, name: String) throws(BusError) -> BusValue {
        let reply = try call(destination: destination, path: path, interface: StandardInterfaces.properties.name, member: "Get",
                             arguments: [.string(interface), .string(name)])
        guard reply.count == 1, let value = reply[0].variantValue else {
            throw unexpectedReply(to: "Get", from: destination, reply)
        }
        return value
    }

    /// Every property of `interface`, through org.freedesktop.DBus.Properties.GetAll.
    public func getAllProperties(destination: String, path: String, interface: String) throws(BusError) -> [String: BusValue] {
        let reply = try call(destination: destination, path: path, interface: StandardInterfaces.properties.name, member: "GetAll",
                             arguments: [.string(interface)])
        guard reply.count == 1, let properties = reply[0].dictionaryValue else {
            throw unexpectedReply(to: "GetAll", from: destination, reply)
        }
        return properties
    }

    private static func methodCall(on bus: OpaquePointer, destination: String, path: String, interface: String, member: String,
                            arguments: [BusValue]) throws(BusError) -> OpaquePointer {
        var created: OpaquePointer?
        let result = sd_bus_message_new_method_call(bus, &created, destination, path, interface, member)
        guard result >= 0, let message = created else {
            throw .errno(result, "creating a call of \(interface).\(member) on \(destination) \(path)")
        }
        do throws(BusError) {
            try BusValue.append(arguments, to: message)
        } catch {
            sd_bus_message_unref(message)
            throw error
        }
        return message
    }

    private static func outcome(of reply: OpaquePointer) -> Result<[BusValue], BusError> {
        if let error = sd_bus_message_get_error(reply) {
            return .failure(.from(error.pointee, code: sd_bus_message_get_errno(reply), what: "the call"))
        }
        do throws(BusError) {
            return .success(try BusValue.readAll(from: reply))
        } catch {
            return .failure(error)
        }
    }

    private func unexpectedReply(to member: String, from destination: String, _ reply: [BusValue]) -> BusError {
        BusError(name: BusError.invalidSignature,
                 message: "\(destination) answered Properties.\(member) with signature '\(reply.map(\.signature).joined())'")
    }
}
