/// The interfaces every object has besides its own. sd-bus answers Peer before the object
/// sees the call; Properties and Introspectable are answered from the object's descriptions.
enum StandardInterfaces {
    static let peer = BusInterfaceDescription(
        name: "org.freedesktop.DBus.Peer",
        methods: [
            .init("Ping"),
            .init("GetMachineId", outputs: [.init("machine_uuid", "s")]),
        ]
    )

    static let introspectable = BusInterfaceDescription(
        name: "org.freedesktop.DBus.Introspectable",
        methods: [.init("Introspect", outputs: [.init("xml_data", "s")])]
    )

    static let properties = BusInterfaceDescription(
        name: "org.freedesktop.DBus.Properties",
        methods: [
            .init("Get", inputs: [.init("interface_name", "s"), .init("property_name", "s")], outputs: [.init("value", "v")]),
            .init("GetAll", inputs: [.init("interface_name", "s")], outputs: [.init("props", "a{sv}")]),
            .init("Set", inputs: [.init("interface_name", "s"), .init("property_name", "s"), .init("value", "v")]),
        ],
        signals: [
            .init("PropertiesChanged", [
                .init("interface_name", "s"), .init("changed_properties", "a{sv}"), .init("invalidated_properties", "as"),
            ]),
        ]
    )

    static let all = [peer, introspectable, properties]
    static let names = Set(all.map(\.name))
}
