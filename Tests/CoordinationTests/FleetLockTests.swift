import Coordination
import Foundation
import HTTP
import Testing
import TestSupport

/// The FleetLock client against Tests/Scripts/fleetlock_server.py, which answers as airlock
/// and poseidon/fleetlock do, judged by the server's request log.
@Suite struct FleetLockTests {
    /// The server with its arguments; its log is in the scratch directory.
    final class Server {
        let scratch: Scratch
        let server: ScriptServer
        var base: String { "http://127.0.0.1:\(server.port)" }

        init(_ arguments: [String] = []) throws {
            scratch = try Scratch()
            server = try ScriptServer(script: "fleetlock_server.py", log: scratch.file("requests.jsonl"), arguments: arguments)
        }

        func requests() throws -> [[String: Any]] { try server.requests() }
    }

    @Test func lockAndUnlockSendTheProtocolsRequests() throws {
        let server = try Server()
        let client = try FleetLockClient(baseURL: server.base + "/", id: "a1b2 \"c\"", group: "workers.eu-1")
        #expect(try client.acquire() == .granted)
        #expect(try client.acquire() == .granted)  // recursive: already held
        #expect(try client.release() == .released)
        #expect(try client.release() == .released)  // unlock-if-held answers 200 either way
        #expect(try client.status() == nil)

        let requests = try server.requests()
        #expect(requests.map { $0["path"] as? String } == ["/v1/pre-reboot", "/v1/pre-reboot", "/v1/steady-state", "/v1/steady-state"])
        for request in requests {
            #expect(request["method"] as? String == "POST")
            let headers = request["headers"] as? [String: String] ?? [:]
            #expect(headers["fleet-lock-protocol"] == "true")
            #expect(headers["content-type"] == "application/json")
            let body = try JSONSerialization.jsonObject(with: Data((request["body"] as? String ?? "").utf8)) as? [String: Any]
            let params = body?["client_params"] as? [String: String]
            #expect(params == ["id": "a1b2 \"c\"", "group": "workers.eu-1"])
            #expect(body?.count == 1)
        }
        #expect(requests.map { $0["status"] as? Int } == [200, 200, 200, 200])
        #expect((requests[0]["holders"] as? [String: [String]])?["workers.eu-1"] == ["a1b2 \"c\""])
        #expect((requests[3]["holders"] as? [String: [String]])?["workers.eu-1"] == [])
    }

    @Test(arguments: ["", "/", "/fleet_lock", "/fleet_lock/", "/fleet_lock//"])
    func theBaseURLWorksWithOrWithoutATrailingSlash(suffix: String) throws {
        let server = try Server()
        let client = try FleetLockClient(baseURL: server.base + suffix, id: "node")
        #expect(try client.acquire() == .granted)
        let prefix = suffix.hasPrefix("/fleet_lock") ? "/fleet_lock" : ""
        #expect(try server.requests().first?["path"] as? String == prefix + "/v1/pre-reboot")
    }

    /// poseidon/fleetlock: 423 lock_held while another node holds the group's lock.
    @Test func heldByAnotherIsNotYetWithTheServersReason() throws {
        let server = try Server(["--holders", "default=other-node"])
        let client = try FleetLockClient(baseURL: server.base, id: "this-node")
        guard case let .notYet(refusal) = try client.acquire() else {
            Issue.record("granted while another node holds the only slot")
            return
        }
        #expect(refusal.kind == "lock_held")
        #expect(refusal.message.contains("other-node"))
        #expect(try server.requests().last?["status"] as? Int == 423)
        // Once the other node is back in steady state, the slot is this node's.
        #expect(try FleetLockClient(baseURL: server.base, id: "other-node").release() == .released)
        #expect(try client.acquire() == .granted)
    }

    /// airlock: 500 failed_lock when all slots are taken, with its text/plain JSON body.
    @Test func airlocksFullSemaphoreIsNotYet() throws {
        let server = try Server(["--full-status", "500", "--slots", "2", "--holders", "default=a,b"])
        let client = try FleetLockClient(baseURL: server.base, id: "c")
        #expect(try client.acquire() == .notYet(LockRefusal(kind: "failed_lock", message: "all 2 semaphore slots currently locked")))
    }

    /// A client retrying through server errors reports granted only for the 200.
    @Test func retriesAreGrantedOnlyByA200() throws {
        let server = try Server(["--fail-first", "3"])
        let client = try FleetLockClient(baseURL: server.base, id: "node")
        var answers: [LockAttempt] = []
        while answers.last != .granted && answers.count < 10 {
            answers.append(try client.acquire())
        }
        let statuses = try server.requests().map { $0["status"] as? Int }
        #expect(statuses == [500, 500, 500, 200])
        #expect(answers.count == 4)
        for (answer, status) in zip(answers, statuses) {
            #expect((answer == .granted) == (status == 200))
        }
        #expect(answers.first == .notYet(LockRefusal(kind: "failed_lock", message: "conflict on semaphore detected, aborting")))
    }

    /// A body that is not JSON gives Zincati's generic kind, and a release that is not
    /// acknowledged is "not yet" too.
    @Test func anUnparsableErrorIsGenericHTTP() throws {
        let server = try Server(["--fail-first", "2", "--garbage-errors"])
        let client = try FleetLockClient(baseURL: server.base, id: "node")
        guard case let .notYet(refusal) = try client.acquire() else {
            Issue.record("granted by a 502")
            return
        }
        #expect(refusal.kind == "generic_http_502")
        #expect(refusal.message.contains("502 Bad Gateway"))
        guard case let .notYet(release) = try client.release() else {
            Issue.record("released by a 502")
            return
        }
        #expect(release.kind == "generic_http_502")
        #expect(try client.release() == .released)
    }

    /// The server's contract: without the header, 400 invalid_client_identity as text/plain JSON.
    @Test func theServerRefusesRequestsWithoutTheHeader() throws {
        let server = try Server()
        let response = try HTTPClient().perform(HTTPRequest(.post, server.base + "/v1/pre-reboot",
                                                            body: Array(#"{"client_params":{"id":"a","group":"default"}}"#.utf8)))
        #expect(response.status == 400)
        #expect(response.headers["content-type"] == "text/plain; charset=utf-8")
        #expect(response.text.hasSuffix("}\n"))
        #expect(response.text.contains("invalid_client_identity"))
    }

    @Test func anUnreachableServerIsAnError() throws {
        let url = "http://127.0.0.1:\(try Etcd.freePort())"
        let client = try FleetLockClient(baseURL: url, id: "node")
        #expect {
            try client.acquire()
        } throws: { error in
            guard case let .unreachable(service, failures) = error as? RebootLockError else { return false }
            return service == .fleetLock && failures.first?.endpoint == url + "/v1/pre-reboot"
        }
    }

    @Test func settingsAreCheckedBeforeAnyRequest() {
        #expect(throws: LockConfigurationError.invalidGroup("a b")) { try FleetLockClient(baseURL: "http://x/", id: "n", group: "a b") }
        #expect(throws: LockConfigurationError.invalidGroup("")) { try FleetLockClient(baseURL: "http://x/", id: "n", group: "") }
        #expect(throws: LockConfigurationError.invalidGroup("under_score")) {
            try FleetLockClient(baseURL: "http://x/", id: "n", group: "under_score")
        }
        #expect(throws: LockConfigurationError.emptyID) { try FleetLockClient(baseURL: "http://x/", id: "") }
        #expect(throws: LockConfigurationError.invalidFleetLockURL("airlock:9090")) { try FleetLockClient(baseURL: "airlock:9090", id: "n") }
        #expect(LockConfigurationError.invalidGroup("a b").description.contains("letters, digits"))
    }
}
