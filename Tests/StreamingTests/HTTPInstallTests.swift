import Foundation
import Slots
import Streaming
import Testing
import TestSupport
import Verification

/// Installs over HTTP from a local test server that behaves well or lies in scripted ways.
@Suite(.serialized)
struct HTTPInstallTests {
    static let imageSize = 5 * (1 << 20) + 4321

    static func setup() throws -> InstallScenario {
        try InstallScenario(imageSize: imageSize)
    }

    /// Fast retries, so that tests of repeated failures finish quickly.
    static func quickRetries(_ options: inout InstallOptions) {
        options.http.initialRetryDelaySeconds = 0.05
        options.http.maximumRetryDelaySeconds = 0.1
        options.http.retries = 3
    }

    @Test func aBundleIsStreamedWithRangeRequests() throws {
        let setup = try Self.setup()
        let server = try BundleServer(file: setup.bundle)
        let result = try setup.harness.install(server.url)
        #expect(result.resumedFrom == 0)
        try setup.harness.expectInstalled(setup.image)
        let requests = try server.requests()
        let header = try BundleFile.readPreamble(path: setup.bundle).header
        #expect(requests.count == 3)
        #expect(requests.first?["range"] == "bytes=0-135167", "the preamble first, at most its largest size")
        #expect(requests.dropFirst().first?["range"] == "bytes=\(header.tableOffset)-\(header.imageOffset - 1)",
                "then the chunk table and its padding")
        #expect(requests.last?["range"] == "bytes=\(setup.imageOffset)-\(setup.imageOffset + UInt64(Self.imageSize) - 1)")
        #expect(requests.last?["if_range"]?.isEmpty == false, "the image request is tied to the preamble's ETag")
    }

    @Test func aServerThatMisstatesTheLengthIsRefusedBeforeWriting() throws {
        let setup = try Self.setup()
        let server = try BundleServer(file: setup.bundle, arguments: ["--mode", "wrong-length"])
        #expect { try setup.harness.install(server.url) } throws: { "\($0)".contains("the server says the bundle is") }
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
    }

    @Test func aServerThatIgnoresRangesIsRefusedBeforeWriting() throws {
        let setup = try Self.setup()
        let server = try BundleServer(file: setup.bundle, arguments: ["--mode", "ignore-range"])
        #expect { try setup.harness.install(server.url) } throws: { error in
            guard case InstallError.sourceUnavailable(.httpStatus(_, 200, _)) = error else { return false }
            return "\(error)".contains("expected 206") && "\(error)".contains("nothing was written")
        }
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
    }

    @Test func aConnectionDroppedAFewTimesIsResumed() throws {
        let setup = try Self.setup()
        let server = try BundleServer(file: setup.bundle, arguments: [
            "--mode", "drop", "--drop-after", "\(1 << 20)", "--drop-count", "3", "--from", "\(setup.imageOffset)"])
        try setup.harness.install(server.url, Self.quickRetries)
        try setup.harness.expectInstalled(setup.image)
        let starts = try server.requests().compactMap { $0["range"] }
            .compactMap { UInt64($0.dropFirst(6).split(separator: "-")[0]) }.filter { $0 >= setup.imageOffset }
        #expect(starts.count == 4, "three dropped attempts and the one that finished")
        #expect(starts == starts.sorted() && Set(starts).count == starts.count, "each retry resumes further on")
    }

    /// Format 3's chunk table arrives in a request of its own, and a dropped connection there is
    /// retried from where it broke off, like the image's.
    @Test func aChunkTableCutOffIsFetchedOnFromWhereItStopped() throws {
        let setup = try Self.setup()
        let header = try BundleFile.readPreamble(path: setup.bundle).header
        let server = try BundleServer(file: setup.bundle, arguments: [
            "--mode", "drop", "--drop-after", "1000", "--drop-count", "2", "--from", "\(header.tableOffset)"])
        try setup.harness.install(server.url, Self.quickRetries)
        try setup.harness.expectInstalled(setup.image)
        let starts = try server.requests().compactMap { $0["range"] }
            .compactMap { UInt64($0.dropFirst(6).split(separator: "-")[0]) }.filter { $0 < header.imageOffset }
        #expect(starts == [0, header.tableOffset, header.tableOffset + 1000, header.tableOffset + 2000],
                "the preamble, then the table three times, each attempt from where the last one stopped")
    }

    @Test func aConnectionThatKeepsDroppingFailsCleanly() throws {
        let setup = try Self.setup()
        let server = try BundleServer(file: setup.bundle, arguments: [
            "--mode", "drop", "--drop-after", "0", "--from", "\(setup.imageOffset)"])
        #expect { try setup.harness.install(server.url, Self.quickRetries) } throws: { error in
            guard case InstallError.stream(.http(server.url, let detail)) = error else { return false }
            return detail.contains("transfer closed") && "\(error)".contains("left unbootable")
        }
        try setup.harness.expectActiveUntouchedAndTargetUnbootable(since: setup.snapshot)
        #expect(try server.requests().count == 2 + 4, "the preamble and the chunk table, then the first try and three retries")
    }

    @Test func serverErrorsAreRetriedAndClientErrorsAreNot() throws {
        let setup = try Self.setup()
        // Nothing was written, and the messages say so rather than "left unbootable".
        let failing = try BundleServer(file: setup.bundle, arguments: ["--mode", "status", "--status", "503"])
        #expect { try setup.harness.install(failing.url, Self.quickRetries) } throws: {
            "\($0)".contains("HTTP 503") && "\($0)".contains("nothing was written") && !"\($0)".contains("unbootable")
        }
        #expect(try failing.requests().count == 4)
        let missing = try BundleServer(file: setup.bundle, arguments: ["--mode", "status", "--status", "404"])
        #expect { try setup.harness.install(missing.url, Self.quickRetries) } throws: {
            "\($0)".contains("HTTP 404") && "\($0)".contains("nothing was written") && !"\($0)".contains("resumes")
        }
        #expect(try missing.requests().count == 1)
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
    }

    /// An install cut off mid-stream resumes from its checkpoint on the next run, re-hashing
    /// what is already in the slot, and refuses a server that answers the resume with 200.
    @Test func anInterruptedInstallResumesFromItsCheckpoint() throws {
        let setup = try Self.setup()
        let dropping = try BundleServer(file: setup.bundle, arguments: [
            "--mode", "drop", "--drop-after", "\(3 << 20)", "--from", "\(setup.imageOffset)"])
        #expect(throws: InstallError.self) { try setup.harness.install(dropping.url) { $0.http.retries = 0 } }
        try setup.harness.expectActiveUntouchedAndTargetUnbootable(since: setup.snapshot)
        let checkpoint = try #require(CheckpointStore(stateDirectory: setup.harness.stateDirectory).load())
        #expect(checkpoint.offset == 3 << 20, "everything that arrived was written, synced and recorded")
        let etag = try #require(checkpoint.validator, "the server's ETag is kept for the resume")
        #expect(checkpoint.source == dropping.url)

        let refusing = try BundleServer(file: setup.bundle, arguments: [
            "--mode", "ignore-range", "--from", "\(setup.imageOffset + 1)"])
        #expect { try setup.harness.install(refusing.url) } throws: { error in
            guard case InstallError.stream(.httpStatus(_, 200, _)) = error else { return false }
            return "\(error)".contains("cannot resume")
        }
        try setup.harness.expectActiveUntouchedAndTargetUnbootable(since: setup.snapshot)

        let good = try BundleServer(file: setup.bundle)
        let result = try setup.harness.install(good.url)
        #expect(result.resumedFrom == checkpoint.offset)
        try setup.harness.expectInstalled(setup.image)
        let resumed = try #require(try good.requests().last)
        #expect(resumed["range"] == "bytes=\(setup.imageOffset + checkpoint.offset)-\(setup.imageOffset + UInt64(Self.imageSize) - 1)")
        #expect(resumed["if_range"] == etag, "the resume is tied to the same copy of the bundle")
    }

    @Test func aDifferentBundleStartsFromZero() throws {
        let setup = try Self.setup()
        let dropping = try BundleServer(file: setup.bundle, arguments: [
            "--mode", "drop", "--drop-after", "\(3 << 20)", "--from", "\(setup.imageOffset)"])
        #expect(throws: InstallError.self) { try setup.harness.install(dropping.url) { $0.http.retries = 0 } }
        let otherImage = try setup.harness.fixture.randomImage("other.raw", size: Self.imageSize)
        let other = try setup.harness.fixture.bundle("v3.tandem", image: otherImage, version: "3.0.0")
        let result = try setup.harness.install(other)
        #expect(result.resumedFrom == 0)
        try setup.harness.expectInstalled(otherImage)
    }

    @Test func httpsVerifiesTheServerCertificate() throws {
        let setup = try Self.setup()
        let cert = setup.harness.fixture.path("server.pem"), key = setup.harness.fixture.path("server.key")
        try Shell.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                       "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                       "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        let server = try BundleServer(file: setup.bundle, arguments: ["--tls-cert", cert, "--tls-key", key])
        #expect { try setup.harness.install(server.httpsURL) { $0.http.retries = 0 } } throws: { error in
            "\(error)".lowercased().contains("certificate")
        }
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
        try setup.harness.install(server.httpsURL) { $0.http.caBundle = cert }
        try setup.harness.expectInstalled(setup.image)
    }

    /// Runs `installer` on a thread of its own, cancels it once `ready` holds, and returns what
    /// the install threw and how long after the cancel it returned.
    static func cancel(_ installer: Installer, installing url: String, once ready: () throws -> Bool) throws -> (error: (any Error)?, seconds: Double) {
        let outcome = InstallOutcome()
        let thread = Thread {
            do { _ = try installer.install(url) } catch { outcome.set(error) }
            outcome.finish()
        }
        thread.start()
        #expect(try Self.eventually(ready), "the install never reached the state to cancel it in")
        let cancelled = Date()
        installer.cancel()
        #expect(outcome.waitForFinish(timeout: 30), "the install did not return after the cancel")
        return (outcome.error, Date().timeIntervalSince(cancelled))
    }

    static func eventually(timeout: Double = 30, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }

    /// The server stops sending 1 MiB into the image for 120 s. The low-speed limit would end the
    /// transfer after 60 s; the cancel ends it at once, as a cancel.
    @Test func aCancelEndsAStalledTransferAtOnce() throws {
        let setup = try Self.setup()
        let server = try BundleServer(file: setup.bundle, arguments: ["--pause-at", "\(setup.imageOffset + (1 << 20))"])
        let installer = try setup.harness.installer()
        let stop = try Self.cancel(installer, installing: server.url) { try server.requests().count >= 2 }
        #expect(stop.seconds < 2, "took \(stop.seconds) s")
        #expect(stop.error.map { "\($0)" }?.contains("cancelled") == true, "\(String(describing: stop.error))")
    }

    /// Every answer is 503, retried after 30 s and more: the cancel ends the wait at once.
    @Test func aCancelEndsTheWaitBetweenRetries() throws {
        let setup = try Self.setup()
        let failing = try BundleServer(file: setup.bundle, arguments: ["--mode", "status", "--status", "503"])
        let installer = try setup.harness.installer { $0.http.initialRetryDelaySeconds = 30 }
        let stop = try Self.cancel(installer, installing: failing.url) { try failing.requests().count >= 1 }
        #expect(stop.seconds < 1, "took \(stop.seconds) s")
        #expect(stop.error.map { "\($0)" }?.contains("cancelled") == true, "\(String(describing: stop.error))")
        #expect(try failing.requests().count == 1, "no retry after the cancel")
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
    }
}

/// What an install on another thread ended with, handed to the test's thread.
final class InstallOutcome: @unchecked Sendable {
    private let condition = NSCondition()
    private var finished = false
    private var failure: (any Error)?

    var error: (any Error)? { condition.withLock { failure } }

    func set(_ error: any Error) {
        condition.withLock { failure = error }
    }

    func finish() {
        condition.withLock {
            finished = true
            condition.broadcast()
        }
    }

    func waitForFinish(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while !finished, condition.wait(until: deadline) {}
            return finished
        }
    }
}
