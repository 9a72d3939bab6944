import BusCore
import Foundation
import Testing
import TestSupport

/// Replies given later, on other threads, or never.
@Suite struct ReplyTests {
    private func call(_ client: BusConnection, _ member: String, _ arguments: [BusValue] = [],
                      timeout: Double = 25) -> Result<[BusValue], BusError> {
        do throws(BusError) {
            return .success(try client.call(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface,
                                            member: member, arguments: arguments, timeout: timeout))
        } catch {
            return .failure(error)
        }
    }

    @Test func replyLaterFromAnotherThreadThroughPost() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        let started = Date()
        #expect(try call(client, "Later", [.string("later")]).get() == [.string("LATER")])
        #expect(Date().timeIntervalSince(started) >= 0.2)
        // The service kept serving while the reply was pending: busctl's call completes too.
        let output = try service.busctl(["call", TestAPI.name, TestAPI.path, TestAPI.interface, "Later", "s", "busctl"])
        #expect(output.stdout == "s \"BUSCTL\"\n")
    }

    @Test func replyGivenOnAnotherThreadIsSentFromTheLoop() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        #expect(try call(client, "LaterDirect", [.string("direct")]).get() == [.string("DIRECT")])
    }

    @Test func manyPendingCallsAreEachAnswered() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        var answers: [String: String] = [:]
        for index in 0..<20 {
            let member = index.isMultiple(of: 2) ? "Later" : "LaterDirect"
            try client.callAsync(destination: TestAPI.name, path: TestAPI.path, interface: TestAPI.interface, member: member,
                                 arguments: [.string("call\(index)")]) { result in
                answers["call\(index)"] = (try? result.get())?.first?.stringValue ?? "failed"
            }
        }
        try wait(on: client) { answers.count == 20 }
        #expect(answers == Dictionary(uniqueKeysWithValues: (0..<20).map { ("call\($0)", "CALL\($0)") }))
    }

    @Test func droppedCallIsAnsweredAtOnce() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        for member in ["Drop", "DropElsewhere"] {
            let started = Date()
            let result = call(client, member, timeout: 20)
            #expect(Date().timeIntervalSince(started) < 5, "\(member) waited for the timeout")
            #expect(result == .failure(BusError(name: BusError.noReply,
                                                message: "the service dropped the call to org.tandem.Test1.\(member) without replying")))
        }
        let output = try service.busctl(["call", TestAPI.name, TestAPI.path, TestAPI.interface, "Drop"])
        #expect(output.stderr == "Call failed: the service dropped the call to org.tandem.Test1.Drop without replying\n")
    }

    @Test func callTimesOutWithNoReply() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let client = try service.client()
        let result = call(client, "Later", [.string("slow")], timeout: 0.05)
        guard case let .failure(error) = result else {
            Issue.record("a reply arrived in 50 ms from a method that takes 200 ms")
            return
        }
        #expect(error.name == BusError.noReply || error.name == BusError.timeout)
    }
}
