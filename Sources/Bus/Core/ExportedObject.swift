import CSystemd

/// One exported object, the userdata of its sd-bus object slot. Each method call to its path
/// lands here: calls to the object's own interfaces go to the handler once their arguments
/// have the declared signature; Properties and Introspectable are answered from the
/// descriptions. sd-bus answers Peer before the object sees the call.
final class ExportedObject {
    private let path: String
    private let handler: BusObjectHandler
    private let interfaces: [BusInterfaceDescription]
    private let registry: ObjectRegistry

    init(path: String, handler: BusObjectHandler, interfaces: [BusInterfaceDescription], registry: ObjectRegistry) {
        self.path = path
        self.handler = handler
        self.interfaces = interfaces
        self.registry = registry
    }

    func dispatch(_ message: OpaquePointer) {
        do throws(BusError) {
            let member = sd_bus_message_get_member(message).map { String(cString: $0) } ?? ""
            let interface = try resolve(interface: sd_bus_message_get_interface(message).map { String(cString: $0) }, member: member)
            guard let method = interface.method(named: member) else {
                throw BusError(name: BusError.unknownMethod, message: "interface \(interface.name) on \(path) has no method \(member)")
            }
            let signature = sd_bus_message_get_signature(message, 1).map { String(cString: $0) } ?? ""
            guard signature == method.inputSignature else {
                throw BusError(name: BusError.invalidArgs,
                               message: "\(interface.name).\(member) takes arguments of signature '\(method.inputSignature)', not '\(signature)'")
            }
            let arguments: [BusValue]
            do throws(BusError) {
                arguments = try BusValue.readAll(from: message)
            } catch {
                throw BusError(name: BusError.invalidArgs, message: "the arguments of \(interface.name).\(member) cannot be read: \(error.message)")
            }
            switch interface.name {
            case StandardInterfaces.properties.name:
                let value = try answerProperties(member, arguments)
                MethodReply.send(value.map { [$0] } ?? [], to: message, declared: method.outputSignature, method: "\(interface.name).\(member)")
            case StandardInterfaces.introspectable.name:
                let xml = Introspection.xml(interfaces: interfaces, children: registry.children(of: path))
                MethodReply.send([.string(xml)], to: message, declared: method.outputSignature, method: "\(interface.name).\(member)")
            default:
                handler.handle(BusMethodCall(
                    message: message, interface: interface.name, member: member, path: path,
                    sender: sd_bus_message_get_sender(message).map { String(cString: $0) },
                    arguments: arguments, outputSignature: method.outputSignature, loop: registry.loop
                ))
            }
        } catch {
            MethodReply.send(error, to: message)
        }
    }

    /// The interface a call is for. A call without an interface (the spec allows it) goes to
    /// the first interface with a method of that name.
    private func resolve(interface name: String?, member: String) throws(BusError) -> BusInterfaceDescription {
        let candidates = interfaces + [StandardInterfaces.properties, StandardInterfaces.introspectable]
        if let name {
            guard let interface = candidates.first(where: { $0.name == name }) else {
                throw BusError(name: BusError.unknownInterface, message: "object \(path) has no interface \(name)")
            }
            return interface
        }
        guard let interface = candidates.first(where: { $0.method(named: member) != nil }) else {
            throw BusError(name: BusError.unknownMethod, message: "object \(path) has no method \(member)")
        }
        return interface
    }

    /// org.freedesktop.DBus.Properties: the reply value of Get or GetAll; nothing for Set, which
    /// always fails because exported properties are read-only.
    private func answerProperties(_ member: String, _ arguments: [BusValue]) throws(BusError) -> BusValue? {
        let interfaceName = arguments.first?.stringValue ?? ""
        let propertyName = arguments.dropFirst().first?.stringValue ?? ""
        switch member {
        case "Get":
            let (interface, property) = try declared(propertyName, in: interfaceName)
            guard let value = try value(of: property, in: interface) else {
                throw BusError(name: BusError.unknownProperty,
                               message: "property \(property.name) of \(interface.name) on \(path) has no value now")
            }
            return .variant(value)
        case "GetAll":
            // An empty interface name asks for the properties of every interface. A property
            // without a value now is left out rather than failing the whole answer.
            let selected = interfaceName.isEmpty ? interfaces : [try exported(interfaceName)]
            var entries: [(String, BusValue)] = []
            for interface in selected {
                for property in interface.properties {
                    if let value = try value(of: property, in: interface) {
                        entries.append((property.name, value))
                    }
                }
            }
            return .dictionary(entries)
        default:
            let (interface, property) = try declared(propertyName, in: interfaceName)
            throw BusError(name: BusError.propertyReadOnly, message: "property \(property.name) of \(interface.name) is read-only")
        }
    }

    private func exported(_ name: String) throws(BusError) -> BusInterfaceDescription {
        guard let interface = interfaces.first(where: { $0.name == name }) else {
            throw BusError(name: BusError.unknownInterface, message: "object \(path) has no interface \(name)")
        }
        return interface
    }

    private func declared(_ name: String, in interfaceName: String)
        throws(BusError) -> (BusInterfaceDescription, BusInterfaceDescription.Property) {
        let interface = try exported(interfaceName)
        guard let property = interface.property(named: name) else {
            throw BusError(name: BusError.unknownProperty, message: "interface \(interfaceName) on \(path) has no property \(name)")
        }
        return (interface, property)
    }

    /// The handler's value for a property, checked against its declared type.
    private func value(of property: BusInterfaceDescription.Property, in interface: BusInterfaceDescription) throws(BusError) -> BusValue? {
        guard let value = handler.property(property.name, interface: interface.name) else { return nil }
        guard value.signature == property.signature else {
            throw BusError(name: BusError.failed, message: "the service gave property \(property.name) of \(interface.name) "
                + "the type '\(value.signature)', but '\(property.signature)' is declared")
        }
        return value
    }
}
