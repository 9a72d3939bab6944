import Foundation

/// A private etcd (Debian's `etcd` 3.4) on 127.0.0.1 with free client and peer ports and a
/// scratch data directory, started by the test and killed when released. It never touches the
/// system's etcd service or its data. The v2 keys API is on unless asked otherwise, because
/// shipped locksmithd uses it; with `tls`, clients must present a certificate signed by the
/// test CA. Sendable because nothing changes after the start.
public final class Etcd: @unchecked Sendable {
    public let clientURL: String
    public let scratch: Scratch
    public let tls: EtcdTLSFiles?
    private let process: Process

    public static var available: Bool { Shell.which("etcd") && Shell.which("etcdctl") }

    /// Skips (or, under TANDEM_REQUIRE_INTEGRATION=1, fails) without etcd and etcdctl.
    public static func require() throws {
        try Integration.require(available, "etcd and etcdctl are missing (apt-get install etcd-server etcd-client)")
    }

    public init(enableV2: Bool = true, tls: Bool = false) throws {
        try Etcd.require()
        scratch = try Scratch()
        self.tls = tls ? try EtcdTLSFiles(directory: scratch.path) : nil
        let scheme = tls ? "https" : "http"
        var lastError = ""
        // A free port found by binding can be taken by someone else before etcd binds it: retry.
        for _ in 0..<5 {
            let clientPort = try Etcd.freePort(), peerPort = try Etcd.freePort()
            let client = "\(scheme)://127.0.0.1:\(clientPort)", peer = "http://127.0.0.1:\(peerPort)"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            var arguments = [
                "etcd", "--name", "tandem-test", "--data-dir", scratch.file("data"),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "tandem-test=\(peer)", "--initial-cluster-state", "new",
                "--enable-v2=\(enableV2)", "--log-level", "error", "--logger", "zap",
            ]
            if let files = self.tls {
                arguments += ["--cert-file", files.serverCertificate, "--key-file", files.serverKey,
                              "--client-cert-auth", "--trusted-ca-file", files.ca]
            }
            process.arguments = arguments
            let log = FileHandle(forWritingAtPath: try scratch.write("", to: "etcd.log"))
            process.standardOutput = log
            process.standardError = log
            try process.run()
            if Etcd.waitUntilHealthy(process, client, self.tls) {
                clientURL = client
                self.process = process
                return
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            lastError = (try? String(contentsOfFile: scratch.file("etcd.log"), encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: scratch.file("data"))
        }
        throw Shell.Failure(command: ["etcd"], output: .init(status: -1, stdout: "", stderr: "etcd did not become healthy: \(lastError)"))
    }

    deinit {
        stop()
    }

    /// Kills etcd now; also done on release. A test that hands the server to other threads
    /// calls this in a `defer`, so that a thread object outliving the test cannot keep it running.
    public func stop() {
        // SIGKILL: the test runner's children may inherit an ignored SIGTERM.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Runs etcdctl against this etcd with the given API version (2 or 3); throws unless it exits 0.
    @discardableResult
    public func etcdctl(api: Int, _ arguments: [String]) throws -> String {
        var command = ["etcdctl"]
        if let tls {
            command += api == 2
                ? ["--ca-file", tls.ca, "--cert-file", tls.clientCertificate, "--key-file", tls.clientKey]
                : ["--cacert", tls.ca, "--cert", tls.clientCertificate, "--key", tls.clientKey]
        }
        command += (api == 2 ? ["--endpoints", clientURL] : ["--endpoints=\(clientURL)"]) + arguments
        let output = try Shell.capture(command, environment: ["ETCDCTL_API": String(api)])
        guard output.status == 0 else { throw Shell.Failure(command: command, output: output) }
        return output.stdout
    }

    /// The value of `key` in the v2 or the v3 keyspace, or nil if it does not exist there.
    public func value(api: Int, _ key: String) throws -> String? {
        if api == 2 {
            do {
                return try etcdctl(api: 2, ["get", key]).trimmingCharacters(in: .newlines)
            } catch let failure as Shell.Failure where failure.output.stderr.contains("Key not found") {
                return nil
            }
        }
        let text = try etcdctl(api: 3, ["get", key, "--print-value-only"])
        return text.isEmpty ? nil : text.trimmingCharacters(in: .newlines)
    }

    /// Writes `value` as it is, as another client (locksmithctl, an operator) would.
    public func put(api: Int, _ key: String, _ value: String) throws {
        try etcdctl(api: api, [api == 2 ? "set" : "put", key, value])
    }

    private static func waitUntilHealthy(_ process: Process, _ clientURL: String, _ tls: EtcdTLSFiles?) -> Bool {
        var command = ["curl", "-sf", "--max-time", "1", clientURL + "/health"]
        if let tls { command += ["--cacert", tls.ca, "--cert", tls.clientCertificate, "--key", tls.clientKey] }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && process.isRunning {
            if let output = try? Shell.capture(command), output.status == 0, output.stdout.contains("true") { return true }
            usleep(50_000)
        }
        return false
    }

    /// A port nobody listens on now: bound with port 0, read back, and released.
    public static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A test CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl.
public struct EtcdTLSFiles {
    public let ca: String
    public let serverCertificate: String
    public let serverKey: String
    public let clientCertificate: String
    public let clientKey: String

    init(directory: String) throws {
        try Integration.require(Shell.which("openssl"), "openssl is missing (apt-get install openssl)")
        func path(_ name: String) -> String { directory + "/" + name }
        ca = path("ca.pem")
        serverCertificate = path("server.pem")
        serverKey = path("server-key.pem")
        clientCertificate = path("client.pem")
        clientKey = path("client-key.pem")
        try Shell.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                       "-keyout", path("ca-key.pem"), "-out", ca, "-days", "2", "-subj", "/CN=tandem test CA"])
        let extensions = try Scratch.writeText(
            // etcd's v3 JSON gateway dials etcd's own gRPC port with the server certificate as
            // its client certificate, so under --client-cert-auth it needs clientAuth too.
            "[server]\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n"
                + "[client]\nextendedKeyUsage=clientAuth\n", to: path("ext.cnf"))
        for (name, key, certificate, section) in [("server", serverKey, serverCertificate, "server"),
                                                  ("client", clientKey, clientCertificate, "client")] {
            try Shell.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                           "-keyout", key, "-out", path("\(name).csr"), "-subj", "/CN=\(name == "client" ? "root" : "127.0.0.1")"])
            try Shell.run(["openssl", "x509", "-req", "-in", path("\(name).csr"), "-CA", ca, "-CAkey", path("ca-key.pem"),
                           "-CAcreateserial", "-out", certificate, "-days", "2", "-extfile", extensions, "-extensions", section])
        }
    }
}

extension Scratch {
    fileprivate static func writeText(_ text: String, to path: String) throws -> String {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
