import BusCore
import Foundation
import Testing
import TestSupport

/// What a caller gets when a call cannot be served, by name and message.
@Suite struct ErrorTests {
    /// The BusError `body` throws; nil when it succeeds.
    private func error(_ body: () throws -> Void) -> BusError? {
        do {
            try body()
            return nil
        } catch {
            return error as? BusError ?? BusError(name: "unexpected", message: "\(error)")
        }
    }

    @Test func unknownMembersInterfacesAndProperties() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        let method = error { _ = try client.call(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: "Nope") }
        #expect(method == BusError(name: BusError.unknownMethod, message: "interface org.tandem.Test1 on /org/tandem/Test has no method Nope"))
        let interface = error { _ = try client.call(destination: TestAPI.name, path: TestAPI.path, interface: "org.tandem.Nope", member: "X") }
        #expect(interface == BusError(name: BusError.unknownInterface, message: "object /org/tandem/Test has no interface org.tandem.Nope"))
        let property = error { _ = try client.getProperty(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, name: "Nope") }
        #expect(property == BusError(name: BusError.unknownProperty,
                                     message: "interface org.tandem.Test1 on /org/tandem/Test has no property Nope"))
        let propertyInterface = error {
            _ = try client.getAllProperties(destination: TestAPI.name, path: TestAPI.childPath, interface: TestAPI.interface)
        }
        #expect(propertyInterface?.name == BusError.unknownInterface)
        let set = error {
            _ = try client.call(destination: TestAPI.name, path: TestAPI.path, interface: "org.freedesktop.DBus.Properties", member: "Set",
                                arguments: [.string(TestAPI.interface), .string("Name"), .variant(.string("x"))])
        }
        #expect(set == BusError(name: BusError.propertyReadOnly, message: "property Name of org.tandem.Test1 is read-only"))

        // The same through busctl, which prints the message.
        let output = try service.busctl(["call", TestAPI.name, TestAPI.path, TestAPI.interface, "Nope"])
        #expect(output.status != 0)
        #expect(output.stderr.contains("has no method Nope"))
    }

    @Test func argumentsMustHaveTheDeclaredSignature() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        let wrong = error {
            _ = try client.call(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: "Add",
                                arguments: [.int64(1), .int32(2)])
        }
        #expect(wrong == BusError(name: BusError.invalidArgs, message: "org.tandem.Test1.Add takes arguments of signature 'xx', not 'xi'"))
        let output = try service.busctl(["call", TestAPI.name, TestAPI.path, TestAPI.interface, "EchoAll", "s", "x"])
        #expect(output.stderr.contains("takes arguments of signature 'a(sssyybs)(sttdd)a{sv}(sisxxs)', not 's'"))
        let getWithoutName = error {
            _ = try client.call(destination: TestAPI.name, path: TestAPI.path, interface: "org.freedesktop.DBus.Properties", member: "Get",
                                arguments: [.string(TestAPI.interface)])
        }
        #expect(getWithoutName?.name == BusError.invalidArgs)
    }

    @Test func badRepliesAndFailuresReachTheCaller() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        let badReply = error { _ = try client.call(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: "BadReply") }
        #expect(badReply == BusError(name: BusError.failed,
                                     message: "the service's reply to org.tandem.Test1.BadReply has signature 'i', but 's' is declared"))
        let failed = error {
            _ = try client.call(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: "Fail",
                                arguments: [.string("org.tandem.Error.Busy"), .string("an update is running")])
        }
        #expect(failed == BusError(name: "org.tandem.Error.Busy", message: "an update is running"))
        // A malformed error name would make dbus-daemon drop the service; it becomes Failed.
        let malformed = error {
            _ = try client.call(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: "Fail",
                                arguments: [.string("not an error name"), .string("oops")])
        }
        #expect(malformed == BusError(name: BusError.failed, message: "not an error name: oops"))
        // The service is still there.
        #expect(try client.call(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: "Add",
                                arguments: [.int64(1), .int64(1)]) == [.int64(2)])
    }

    @Test func propertiesWithoutValueOrWithTheWrongType() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        let missing = error { _ = try client.getProperty(destination: TestAPI.name, path: TestAPI.childPath, interface: TestAPI.broken, name: "Missing") }
        #expect(missing?.name == BusError.unknownProperty)
        let mistyped = error { _ = try client.getProperty(destination: TestAPI.name, path: TestAPI.childPath, interface: TestAPI.broken, name: "Mistyped") }
        #expect(mistyped == BusError(name: BusError.failed,
                                     message: "the service gave property Mistyped of org.tandem.Broken1 the type 'i', but 's' is declared"))
        let all = error { _ = try client.getAllProperties(destination: TestAPI.name, path: TestAPI.childPath, interface: TestAPI.broken) }
        #expect(all?.name == BusError.failed)
    }

    @Test func malformedValuesAreRefusedBeforeSending() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        let cases: [(BusValue, String)] = [
            (.array(elementSignature: "s", [.int32(1)]), "an array of 's' holds a value of type 'i'"),
            (.string("a\u{0}b"), "a D-Bus string cannot contain a NUL character"),
            (.objectPath("not/a/path"), "'not/a/path' is not a valid D-Bus object path"),
            (.signature("a{"), "'a{' is not a valid D-Bus signature"),
            (.array(elementSignature: "{vs}", []), "'a{vs}' is not a valid D-Bus type"),
            (.dictEntry(.string("k"), .string("v")), "'{ss}' is not a valid D-Bus type"),
            (.structure([]), "'()' is not a valid D-Bus type"),
        ]
        for (value, message) in cases {
            let refused = error {
                _ = try client.call(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: "Echo",
                                    arguments: [.variant(value)])
            }
            #expect(refused == BusError(name: BusError.invalidArgs, message: message), "\(value)")
        }
        // The connection is still usable after a refused message.
        #expect(try client.call(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: "Echo",
                                arguments: [.variant(.string("ok"))]) == [.variant(.string("ok"))])
    }

    @Test func malformedDescriptionsAreRefusedOnExport() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let connection = try service.client()
        let handler = TestObject(loop: service.loop)
        let cases: [(String, [BusInterfaceDescription], String)] = [
            ("/ok", [.init(name: "nodots")], "interface description nodots: not a valid interface name"),
            ("/ok", [.init(name: "a.b", methods: [.init("M", inputs: [.init("x", "ss")])])],
             "interface description a.b: argument 'x' of M has type 'ss', which is not a single complete type"),
            ("/ok", [.init(name: "a.b", properties: [.init("P", "a")])],
             "interface description a.b: property 'P' has type 'a', which is not a single complete type"),
            ("/ok", [.init(name: "a.b", methods: [.init("M"), .init("M")])], "interface description a.b: 'M' is declared twice"),
            ("/ok", [.init(name: "a.b"), .init(name: "a.b")], "interface a.b is given twice for /ok"),
            ("/ok", [.init(name: "org.freedesktop.DBus.Properties")],
             "org.freedesktop.DBus.Properties is provided for every object and cannot be exported"),
            ("bad", [.init(name: "a.b")], "'bad' is not a valid object path"),
        ]
        for (path, interfaces, message) in cases {
            let refused = error { try connection.export(handler, path: path, interfaces: interfaces) }
            #expect(refused == BusError(name: BusError.invalidArgs, message: message))
        }
        try connection.export(handler, path: "/ok", interfaces: [.init(name: "a.b")])
        let twice = error { try connection.export(handler, path: "/ok", interfaces: [.init(name: "a.b")]) }
        #expect(twice == BusError(name: BusError.invalidArgs, message: "an object is already exported at /ok"))
    }
}
