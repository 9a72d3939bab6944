import Coordination
import Foundation
import HTTP
import Testing
import TestSupport

/// etcd with client-certificate TLS, and with users and passwords (v2 basic authentication,
/// v3 tokens), as a hardened cluster runs.
@Suite struct EtcdSecurityTests {
    let key = "coreos.com/updateengine/rebootlock/semaphore"

    func store(_ api: EtcdAPI, _ connection: EtcdConnection) -> any SemaphoreStore {
        api == .v2 ? EtcdV2Store(connection: connection) : EtcdV3Store(connection: connection)
    }

    @Test(arguments: EtcdAPI.allCases)
    func clientCertificatesOverTLS(api: EtcdAPI) throws {
        let etcd = try Etcd(tls: true)
        let files = try #require(etcd.tls)
        #expect(etcd.clientURL.hasPrefix("https://"))
        let connection = try EtcdConnection(endpoints: [etcd.clientURL], options: HTTPOptions(
            caBundle: files.ca, clientCertificate: files.clientCertificate, clientKey: files.clientKey))
        let lock = try LocksmithLock(store: store(api, connection), holder: "1234")
        #expect(try lock.acquire() == .granted)
        #expect(RawSemaphore(try etcd.value(api: api.rawValue, key))?.holders == ["1234"])

        // Without a client certificate etcd ends the handshake: no answer at all.
        let anonymous = try LocksmithLock(store: store(api, EtcdConnection(endpoints: [etcd.clientURL], options: HTTPOptions(caBundle: files.ca))),
                                          holder: "1234")
        #expect {
            try anonymous.status()
        } throws: { error in
            guard case .unreachable = error as? RebootLockError else { return false }
            return true
        }
    }

    @Test func v2BasicAuthentication() throws {
        let etcd = try Etcd()
        let v2 = etcd.clientURL + "/v2/auth"
        try Shell.run(["curl", "-sf", "-X", "PUT", v2 + "/users/root", "-d", #"{"user":"root","password":"secret"}"#])
        try Shell.run(["curl", "-sf", "-X", "PUT", v2 + "/enable"])
        // The guest role may do everything until revoked.
        try Shell.run(["curl", "-sf", "-u", "root:secret", "-X", "PUT", v2 + "/roles/guest",
                       "-d", #"{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}"#])
        try checkCredentials(.v2, etcd)
    }

    @Test func v3TokenAuthentication() throws {
        let etcd = try Etcd()
        try etcd.etcdctl(api: 3, ["user", "add", "root:secret"])
        try etcd.etcdctl(api: 3, ["auth", "enable"])
        try checkCredentials(.v3, etcd)
    }

    /// Without credentials and with a wrong password: refused with etcd's reason; with the right
    /// ones: granted.
    func checkCredentials(_ api: EtcdAPI, _ etcd: Etcd) throws {
        for credentials in [nil, EtcdConnection.Credentials(username: "root", password: "wrong")] {
            let lock = try LocksmithLock(store: store(api, EtcdConnection(endpoints: [etcd.clientURL], credentials: credentials)), holder: "1234")
            #expect {
                try lock.acquire()
            } throws: { error in
                guard case let .etcdError(_, status, _) = error as? RebootLockError else { return false }
                return status >= 400 && "\(error)".contains("credentials")
            }
        }
        let connection = try EtcdConnection(endpoints: [etcd.clientURL], credentials: .init(username: "root", password: "secret"))
        let lock = try LocksmithLock(store: store(api, connection), holder: "1234")
        #expect(try lock.acquire() == .granted)
        #expect(try lock.status()?.holders == ["1234"])
    }
}
