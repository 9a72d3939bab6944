import TestSupport
import Testing

@Suite struct LinkageTests {
    /// updatectl decodes tandemd's status through BusClient and UpdateModel: it links no engine,
    /// so none of Omaha's libxml2. ldd is the oracle: what the dynamic loader would map.
    @Test func updatectlLinksNoLibXML2() throws {
        let ldd = try Shell.capture(["ldd", Updatectl.path])
        #expect(ldd.status == 0, "\(ldd.stderr)")
        #expect(ldd.stdout.contains("libsystemd"), "the D-Bus client is linked: \(ldd.stdout)")
        #expect(!ldd.stdout.contains("libxml2"), "\(ldd.stdout)")
    }
}
