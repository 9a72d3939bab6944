import CSystemd

/// Declarative description of one exported interface. The same description drives dispatch
/// (which methods exist, which signature their arguments must have), the Properties interface
/// and introspection, so the three cannot disagree.
public struct BusInterfaceDescription: Sendable {
    public struct Argument: Sendable {
        public var name: String
        public var signature: String

        public init(_ name: String, _ signature: String) {
            self.name = name
            self.signature = signature
        }
    }

    public struct Method: Sendable {
        public var name: String
        public var inputs: [Argument]
        public var outputs: [Argument]

        public init(_ name: String, inputs: [Argument] = [], outputs: [Argument] = []) {
            self.name = name
            self.inputs = inputs
            self.outputs = outputs
        }

        public var inputSignature: String { inputs.map(\.signature).joined() }
        public var outputSignature: String { outputs.map(\.signature).joined() }
    }

    /// Properties are read-only over the bus: a Set call is refused with PropertyReadOnly.
    public struct Property: Sendable {
        /// What PropertiesChanged carries for this property, as introspection announces it.
        public enum ChangeSignal: Sendable {
            /// The new value is sent.
            case emits
            /// Only the name is sent; clients fetch the value.
            case invalidates
            /// The value never changes while the object exists.
            case constant
            /// Changes are not signalled; clients must poll.
            case none
        }

        public var name: String
        public var signature: String
        public var change: ChangeSignal

        public init(_ name: String, _ signature: String, change: ChangeSignal = .emits) {
            self.name = name
            self.signature = signature
            self.change = change
        }
    }

    public struct Signal: Sendable {
        public var name: String
        public var arguments: [Argument]

        public init(_ name: String, _ arguments: [Argument] = []) {
            self.name = name
            self.arguments = arguments
        }

        public var signature: String { arguments.map(\.signature).joined() }
    }

    public var name: String
    public var methods: [Method]
    public var properties: [Property]
    public var signals: [Signal]

    public init(name: String, methods: [Method] = [], properties: [Property] = [], signals: [Signal] = []) {
        self.name = name
        self.methods = methods
        self.properties = properties
        self.signals = signals
    }

    func method(named name: String) -> Method? {
        methods.first { $0.name == name }
    }

    func property(named name: String) -> Property? {
        properties.first { $0.name == name }
    }

    func signal(named name: String) -> Signal? {
        signals.first { $0.name == name }
    }

    /// Refuses a description sd-bus or a client would choke on, naming the bad part, when it
    /// is exported rather than when the first call arrives.
    func validate() throws(BusError) {
        func refuse(_ what: String) -> BusError {
            BusError(name: BusError.invalidArgs, message: "interface description \(name): \(what)")
        }
        guard sd_bus_interface_name_is_valid(name) > 0 else { throw refuse("not a valid interface name") }
        var members = Set<String>()
        for member in methods.map(\.name) + signals.map(\.name) {
            guard sd_bus_member_name_is_valid(member) > 0 else { throw refuse("'\(member)' is not a valid member name") }
            guard members.insert(member).inserted else { throw refuse("'\(member)' is declared twice") }
        }
        var propertyNames = Set<String>()
        for property in properties {
            guard sd_bus_member_name_is_valid(property.name) > 0 else {
                throw refuse("'\(property.name)' is not a valid property name")
            }
            guard propertyNames.insert(property.name).inserted else { throw refuse("property '\(property.name)' is declared twice") }
            guard BusSignature.isSingleCompleteType(property.signature) else {
                throw refuse("property '\(property.name)' has type '\(property.signature)', which is not a single complete type")
            }
        }
        let arguments = methods.flatMap { method in (method.inputs + method.outputs).map { (method.name, $0) } }
            + signals.flatMap { signal in signal.arguments.map { (signal.name, $0) } }
        for (member, argument) in arguments where !BusSignature.isSingleCompleteType(argument.signature) {
            throw refuse("argument '\(argument.name)' of \(member) has type '\(argument.signature)', which is not a single complete type")
        }
    }
}
