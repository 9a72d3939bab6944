import BusCore
import Foundation
import TestSupport
import Testing

/// The interfaces the test object exports: one method per behaviour under test and one
/// property per D-Bus type.
enum TestAPI {
    static let name = "org.tandem.Test"
    static let path = "/org/tandem/Test"
    static let childPath = "/org/tandem/Test/child"
    static let interface = "org.tandem.Test1"
    static let other = "org.tandem.Other1"
    static let broken = "org.tandem.Broken1"

    static let main = BusInterfaceDescription(
        name: interface,
        methods: [
            .init("Add", inputs: [.init("a", "x"), .init("b", "x")], outputs: [.init("sum", "x")]),
            .init("Echo", inputs: [.init("value", "v")], outputs: [.init("value", "v")]),
            .init("EchoAll",
                  inputs: [.init("slots", "a(sssyybs)"), .init("stats", "(sttdd)"), .init("extra", "a{sv}"), .init("record", "(sisxxs)")],
                  outputs: [.init("slots", "a(sssyybs)"), .init("stats", "(sttdd)"), .init("extra", "a{sv}"), .init("record", "(sisxxs)")]),
            .init("Later", inputs: [.init("text", "s")], outputs: [.init("text", "s")]),
            .init("LaterDirect", inputs: [.init("text", "s")], outputs: [.init("text", "s")]),
            .init("Drop"),
            .init("DropElsewhere"),
            .init("WhoAmI", outputs: [.init("uid", "u"), .init("gid", "u"), .init("groups", "au"), .init("pid", "i")]),
            .init("Fail", inputs: [.init("name", "s"), .init("message", "s")]),
            .init("BadReply", outputs: [.init("text", "s")]),
            .init("Touch", inputs: [.init("name", "s")]),
        ],
        properties: [
            .init("Byte", "y"), .init("Flag", "b"), .init("Short", "n"), .init("UShort", "q"),
            .init("Int", "i"), .init("UInt", "u"), .init("Long", "x"), .init("ULong", "t"),
            .init("Ratio", "d"), .init("Name", "s"), .init("Path", "o"), .init("Sig", "g"),
            .init("Slots", "a(sssyybs)"), .init("Stats", "(sttdd)"), .init("Extra", "a{sv}"), .init("Empty", "as"),
            .init("Version", "s", change: .constant),
            .init("Counter", "t", change: .invalidates),
            .init("Secret", "s", change: .none),
        ],
        signals: [.init("Touched", [.init("name", "s")])]
    )

    static let second = BusInterfaceDescription(
        name: other,
        methods: [.init("Hello", outputs: [.init("greeting", "s")])],
        properties: [.init("Answer", "u", change: .constant)]
    )

    static let faulty = BusInterfaceDescription(
        name: broken,
        properties: [.init("Missing", "s"), .init("Mistyped", "s")]
    )

    static let slots = BusValue.array(elementSignature: "(sssyybs)", [
        .structure([.string("A"), .string("/dev/sda3"), .string("USR-A"), .byte(1), .byte(2), .bool(true), .string("good")]),
        .structure([.string("B"), .string("/dev/sda4"), .string("USR-B"), .byte(0), .byte(15), .bool(false), .string("")]),
    ])
    static let stats = BusValue.structure([.string("stats"), .uint64(10), .uint64(20), .double(0.5), .double(2.25)])
    static let extra = BusValue.dictionary([
        ("mode", .string("fast")),
        ("list", .array(elementSignature: "u", [.uint32(1), .uint32(2)])),
        ("pair", .structure([.int32(-1), .bool(true)])),
        ("nested", .dictionary([("inner", .variant(.byte(7)))])),
    ])
}

/// The exported object. Runs on the bus thread.
final class TestObject: BusObjectHandler {
    private let loop: EventLoop
    weak var connection: BusConnection?
    private var name = "initial"
    private var counter: UInt64 = 0

    init(loop: EventLoop) {
        self.loop = loop
    }

    func handle(_ call: BusMethodCall) {
        let arguments = call.arguments
        switch call.member {
        case "Add":
            call.reply([.int64((arguments[0].int64Value ?? 0) &+ (arguments[1].int64Value ?? 0))])
        case "Echo", "EchoAll":
            call.reply(arguments)
        case "Hello":
            call.reply([.string("hello from \(call.interface)")])
        case "Later":
            let text = arguments[0].stringValue ?? ""
            let loop = self.loop
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: 0.2)
                loop.post { call.reply([.string(text.uppercased())]) }
            }
        case "LaterDirect":
            let text = arguments[0].stringValue ?? ""
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: 0.2)
                call.reply([.string(text.uppercased())])
            }
        case "Drop":
            break
        case "DropElsewhere":
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: 0.1)
                withExtendedLifetime(call) {}
            }
        case "WhoAmI":
            do {
                let credentials = try call.credentials()
                call.reply([.uint32(credentials.uid), .uint32(credentials.gid ?? .max),
                            .array(elementSignature: "u", credentials.groups.map(BusValue.uint32)), .int32(credentials.pid ?? -1)])
            } catch {
                call.fail(error)
            }
        case "Fail":
            call.fail(BusError(name: arguments[0].stringValue ?? "", message: arguments[1].stringValue ?? ""))
        case "BadReply":
            call.reply([.int32(1)])
        case "Touch":
            name = arguments[0].stringValue ?? ""
            counter += 1
            do {
                try connection?.emitPropertiesChanged(path: call.path, interface: TestAPI.interface,
                                                      changed: [("Name", .string(name)), ("Counter", .uint64(counter)),
                                                                ("Version", .string("1.0"))])
                try connection?.emitSignal(path: call.path, interface: TestAPI.interface, member: "Touched",
                                           arguments: [.string(name)])
                call.reply()
            } catch {
                call.fail(error)
            }
        default:
            call.fail(BusError(name: BusError.unknownMethod, message: "no \(call.member)"))
        }
    }

    func property(_ property: String, interface: String) -> BusValue? {
        switch (interface, property) {
        case (TestAPI.interface, "Byte"): .byte(200)
        case (TestAPI.interface, "Flag"): .bool(true)
        case (TestAPI.interface, "Short"): .int16(-300)
        case (TestAPI.interface, "UShort"): .uint16(60000)
        case (TestAPI.interface, "Int"): .int32(-70000)
        case (TestAPI.interface, "UInt"): .uint32(4_000_000_000)
        case (TestAPI.interface, "Long"): .int64(-5_000_000_000)
        case (TestAPI.interface, "ULong"): .uint64(9_000_000_000_000_000_000)
        case (TestAPI.interface, "Ratio"): .double(0.25)
        case (TestAPI.interface, "Name"): .string(name)
        case (TestAPI.interface, "Path"): .objectPath(TestAPI.childPath)
        case (TestAPI.interface, "Sig"): .signature("a{sv}")
        case (TestAPI.interface, "Slots"): TestAPI.slots
        case (TestAPI.interface, "Stats"): TestAPI.stats
        case (TestAPI.interface, "Extra"): TestAPI.extra
        case (TestAPI.interface, "Empty"): .array(elementSignature: "s", [])
        case (TestAPI.interface, "Version"): .string("1.0")
        case (TestAPI.interface, "Counter"): .uint64(counter)
        case (TestAPI.interface, "Secret"): .string("hidden")
        case (TestAPI.other, "Answer"): .uint32(42)
        case (TestAPI.broken, "Mistyped"): .int32(3)
        default: nil
        }
    }
}

/// A private bus with the test object served on its own loop thread, and busctl pointed at it.
final class TestService {
    let bus: PrivateBus
    let loop: EventLoop
    private let stopped = DispatchSemaphore(value: 0)

    init(policy: PrivateBus.Policy = .permissive) throws {
        bus = try PrivateBus(policy: policy)
        let loop = try EventLoop()
        self.loop = loop
        let address = bus.address
        let ready = DispatchSemaphore(value: 0)
        let setup = Outcome()
        let stopped = self.stopped
        Thread.detachNewThread {
            defer { stopped.signal() }
            do {
                let connection = try BusConnection.connect(address: address)
                let object = TestObject(loop: loop)
                object.connection = connection
                try connection.export(object, path: TestAPI.path, interfaces: [TestAPI.main, TestAPI.second])
                try connection.export(object, path: TestAPI.childPath, interfaces: [TestAPI.second, TestAPI.faulty])
                try connection.requestName(TestAPI.name)
                try connection.attach(to: loop)
                ready.signal()
                _ = try loop.run()
            } catch {
                setup.error = "\(error)"
                ready.signal()
            }
        }
        ready.wait()
        if let error = setup.error {
            throw Shell.Failure(command: ["TestService"], output: .init(status: -1, stdout: "", stderr: error))
        }
    }

    deinit {
        loop.exit()
        stopped.wait()
        bus.stop()
    }

    /// busctl against the private bus, as root or as nobody (uid 65534, no groups).
    func busctl(_ arguments: [String], asNobody: Bool = false) throws -> Shell.Output {
        let command = ["busctl", "--address=\(bus.address)"] + arguments
        let drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        return try Shell.capture(asNobody ? drop + command : command)
    }

    /// `busctl --json=short …`'s output, normalised for comparison with `json(_:)`.
    func busctlJSON(_ arguments: [String]) throws -> String {
        let output = try busctl(["--json=short"] + arguments)
        guard output.status == 0 else { throw Shell.Failure(command: arguments, output: output) }
        return try json(output.stdout)
    }

    func client() throws -> BusConnection {
        try BusConnection.connect(address: bus.address)
    }
}

/// `text` as JSON re-serialised with sorted keys, so that two documents compare equal when
/// their content is equal.
func json(_ text: String) throws -> String {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])
    return String(decoding: data, as: UTF8.self)
}

/// Cancels the test unless it runs as root (as CI does), or fails it when
/// TANDEM_REQUIRE_INTEGRATION=1.
func requireRoot(_ what: String) throws {
    if getuid() == 0 { return }
    if Integration.required {
        Issue.record("\(what) needs root, and TANDEM_REQUIRE_INTEGRATION=1 forbids skipping")
        return
    }
    try Test.cancel("skipped: \(what) needs root; set TANDEM_REQUIRE_INTEGRATION=1 to make this a failure")
}

/// Set on one thread, read on another after a semaphore.
final class Outcome: @unchecked Sendable {
    var error: String?
}

/// Processes a loop-less client's traffic until `done` holds or `seconds` pass.
func wait(on connection: BusConnection, seconds: Double = 10, until done: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !done() && Date() < deadline {
        try connection.processEvents(timeout: 0.1)
    }
}
