import CSystemd

/// Sending the one reply a method call gets. Every failure on the way falls back to an error
/// reply, because a caller left without any reply hangs until its timeout.
enum MethodReply {
    /// Replies with `values`, which must match the method's declared output signature.
    static func send(_ values: [BusValue], to call: OpaquePointer, declared: String, method: String) {
        let signature = values.map(\.signature).joined()
        guard signature == declared else {
            send(BusError(name: BusError.failed,
                          message: "the service's reply to \(method) has signature '\(signature)', but '\(declared)' is declared"),
                 to: call)
            return
        }
        var reply: OpaquePointer?
        let created = sd_bus_message_new_method_return(call, &reply)
        guard created >= 0, let reply else {
            send(.errno(created, "building the reply to \(method)"), to: call)
            return
        }
        defer { sd_bus_message_unref(reply) }
        do throws(BusError) {
            try BusValue.append(values, to: reply)
        } catch {
            send(BusError(name: BusError.failed, message: "the service's reply to \(method) is malformed: \(error.message)"), to: call)
            return
        }
        // A failed send means the connection is gone; there is no one left to tell.
        sd_bus_send(nil, reply, nil)
    }

    static func send(_ error: BusError, to call: OpaquePointer) {
        // dbus-daemon drops a connection that sends a malformed error name, so such a name is
        // replaced rather than passed on.
        let valid = sd_bus_interface_name_is_valid(error.name) > 0
        var replyError = sd_bus_error()
        defer { sd_bus_error_free(&replyError) }
        sd_bus_error_set(&replyError, valid ? error.name : BusError.failed,
                         valid ? error.message : "\(error.name): \(error.message)")
        // Fails only when the connection is gone, and then no one is waiting.
        sd_bus_reply_method_error(call, &replyError)
    }
}
