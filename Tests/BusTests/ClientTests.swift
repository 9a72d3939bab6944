import BusCore
import Foundation
import Testing
import TestSupport

/// BusConnection as a client: calls, properties, names and the caller's credentials.
@Suite struct ClientTests {
    @Test func valuesRoundTripThroughAVariant() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        let values: [BusValue] = [
            .byte(255), .bool(false), .int16(.min), .uint16(.max), .int32(.min), .uint32(.max), .int64(.min), .uint64(.max),
            .double(-1.5), .string("ünïcödé"), .string(""), .objectPath("/"), .signature("a(sssyybs)"),
            TestAPI.slots, TestAPI.stats, TestAPI.extra,
            .structure([.string("s"), .int32(-1), .string("t"), .int64(-2), .int64(3), .string("u")]),
            .array(elementSignature: "a{sv}", []),
            .array(elementSignature: "(sttdd)", []),
            .array(elementSignature: "{sv}", []),
            .array(elementSignature: "aay", [.array(elementSignature: "ay", [.array(elementSignature: "y", [.byte(1)])])]),
            .array(elementSignature: "{ua(ss)}", [.dictEntry(.uint32(1), .array(elementSignature: "(ss)", []))]),
            .variant(.variant(.array(elementSignature: "v", [.variant(.structure([.bool(true)]))]))),
        ]
        for value in values {
            let reply = try client.call(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: "Echo",
                                        arguments: [.variant(value)])
            #expect(reply == [.variant(value)], "\(value.signature)")
        }
        let all = try client.call(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: "EchoAll",
                                  arguments: [TestAPI.slots, TestAPI.stats, TestAPI.extra,
                                              .structure([.string("a"), .int32(1), .string("b"), .int64(2), .int64(3), .string("c")])])
        #expect(all.map(\.signature) == ["a(sssyybs)", "(sttdd)", "a{sv}", "(sisxxs)"])
        #expect(all[0] == TestAPI.slots && all[1] == TestAPI.stats && all[2] == TestAPI.extra)
    }

    @Test func propertiesOneByOneAndAll() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        #expect(try client.getProperty(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, name: "Slots")
            == TestAPI.slots)
        let all = try client.getAllProperties(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface)
        #expect(all.count == TestAPI.main.properties.count)
        #expect(all["Stats"] == TestAPI.stats)
        #expect(all["Extra"] == TestAPI.extra)
        #expect(all["ULong"] == .uint64(9_000_000_000_000_000_000))
        #expect(all["Empty"] == .array(elementSignature: "s", []))
        #expect(try client.getAllProperties(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.other) == ["Answer": .uint32(42)])
        // Broken1 has one property without a value and one mistyped; only the child exports it.
        #expect(try client.getAllProperties(destination: TestAPI.name, path: TestAPI.childPath, interface: TestAPI.other)
            == ["Answer": .uint32(42)])
    }

    @Test func asynchronousCalls() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        var results: [String: Result<[BusValue], BusError>] = [:]
        try client.callAsync(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: "Add",
                             arguments: [.int64(20), .int64(22)]) { results["add"] = $0 }
        try client.callAsync(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: "Nope") {
            results["unknown"] = $0
        }
        try client.callAsync(destination: "org.tandem.Absent", path: "/", interface: "a.b", member: "C") { results["absent"] = $0 }
        #expect(results.isEmpty)
        try wait(on: client) { results.count == 3 }
        #expect(results["add"] == .success([.int64(42)]))
        #expect(results["unknown"] == .failure(BusError(name: BusError.unknownMethod,
                                                        message: "interface org.tandem.Test1 on /org/tandem/Test has no method Nope")))
        guard case let .failure(absent) = results["absent"] else {
            Issue.record("a call to a name nobody owns did not fail: \(String(describing: results["absent"]))")
            return
        }
        #expect(absent.name == BusError.serviceUnknown)
    }

    @Test func callerCredentials() throws {
        try Integration.requireDBus()
        try requireRoot("setpriv")
        let service = try TestService()
        let nobody = try service.busctl(["--json=short", "call", TestAPI.name, TestAPI.path, TestAPI.interface, "WhoAmI"], asNobody: true)
        #expect(nobody.status == 0, "\(nobody.stderr)")
        let reply = try JSONSerialization.jsonObject(with: Data(nobody.stdout.utf8)) as? [String: Any]
        let data = reply?["data"] as? [Any]
        #expect(data?[0] as? Int == 65534)
        // dbus-daemon lists the primary group among the groups and does not report it apart.
        #expect(data?[1] as? Int == Int(UInt32.max))
        #expect(data?[2] as? [Int] == [65534])
        #expect((data?[3] as? Int ?? 0) > 0 && data?[3] as? Int != Int(getpid()))

        let groups = try Shell.capture(["setpriv", "--reuid=65534", "--regid=65534", "--groups=100,200", "busctl",
                                        "--address=\(service.bus.address)", "call", TestAPI.name, TestAPI.path, TestAPI.interface, "WhoAmI"])
        #expect(groups.stdout.hasPrefix("uuaui 65534 4294967295 3 100 200 65534 "), "\(groups.stdout)\(groups.stderr)")
        let root = try service.busctl(["call", TestAPI.name, TestAPI.path, TestAPI.interface, "WhoAmI"])
        #expect(root.stdout.hasPrefix("uuaui 0 "), "\(root.stdout)")
    }

    @Test func namesAreOwnedOnceAndAsThePolicySays() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        #expect(try client.uniqueName.hasPrefix(":1."))
        do {
            try client.requestName(TestAPI.name)
            Issue.record("a second connection became the owner of \(TestAPI.name)")
        } catch {
            #expect(error == BusError(name: BusError.failed, message: "the bus name org.tandem.Test is already owned by another connection; "
                + "is another instance running?"))
        }
        try client.requestName("org.tandem.Second")
        try client.requestName("org.tandem.Second")

        let policy = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-deny-\(UUID().uuidString).conf").path
        defer { try? FileManager.default.removeItem(atPath: policy) }
        try """
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <policy context="default"><deny own="org.tandem.Forbidden"/></policy>
              <policy user="root"><deny own="org.tandem.Forbidden"/></policy>
            </busconfig>
            """.write(toFile: policy, atomically: true, encoding: .utf8)
        let strict = try PrivateBus(policy: .systemLike(includes: [policy]))
        let connection = try BusConnection.connect(address: strict.address)
        try connection.requestName("org.tandem.Allowed")
        do {
            try connection.requestName("org.tandem.Forbidden")
            Issue.record("the policy let root own org.tandem.Forbidden")
        } catch {
            #expect(error.name == BusError.accessDenied)
            #expect(error.message.hasPrefix("the bus policy does not let uid \(getuid()) own org.tandem.Forbidden ("), "\(error.message)")
            #expect(error.message.hasSuffix("install the D-Bus policy file for org.tandem.Forbidden in /usr/share/dbus-1/system.d, "
                + "or run as the user it allows"))
        }
        #expect(throws: BusError(name: BusError.invalidArgs, message: "'no dots' is not a valid well-known bus name")) {
            try connection.requestName("no dots")
        }
    }

    @Test func systemBusFollowsTheEnvironment() throws {
        try Integration.requireDBus()
        let service = try TestService()
        // sd-bus reads DBUS_SYSTEM_BUS_ADDRESS at connect time; a child process keeps this
        // test from changing the environment of the others running beside it.
        let output = try Shell.capture(["busctl", "--system", "call", TestAPI.name, TestAPI.path, TestAPI.interface, "Add", "xx", "1", "2"],
                                       environment: service.bus.environment)
        #expect(output.stdout == "x 3\n", "\(output.stderr)")
    }
}
