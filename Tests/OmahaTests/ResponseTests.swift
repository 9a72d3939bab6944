import Foundation
import Omaha
import Testing

@Suite struct ResponseTests {
    static let digest = [UInt8](repeating: 0xA5, count: 32)
    static let digestBase64 = Data(digest).base64EncodedString()

    static func parse(_ text: String) throws -> OmahaResponse {
        try OmahaResponse.parse(Array(text.utf8))
    }

    /// update_engine's `sample_omaha_v3_response.xml`, as its source describes it.
    static let updateEngineSample = """
        <?xml version="1.0" encoding="UTF-8"?>
        <response protocol="3.0" server="prod">
          <daystart elapsed_seconds="56754"/>
          <app appid="{87efface-864d-49a5-9bb3-4b050a7c227a}" status="ok">
            <ping status="ok"/>
            <updatecheck status="ok">
              <urls>
                <url codebase="http://dl.google.com/chromeos/6873.0.0/x86-alex-dev/"/>
                <url codebase="https://dl.google.com/chromeos/6873.0.0/x86-alex-dev"/>
              </urls>
              <manifest version="6873.0.0">
                <packages>
                  <package hash="HVOmp67vBjPdvpWmOC2Uw4UDwsc=" name="chromeos_6873.0.0_x86-alex_update.bin" required="true" size="454742454"/>
                </packages>
                <actions>
                  <action event="update" run="chromeos_6873.0.0_x86-alex_update.bin"/>
                  <action ChromeOSVersion="6873.0.0" ChromeVersion="40.0.2214.0" IsDeltaPayload="false" MaxDaysToScatter="14" MetadataSignatureRsa="ZmFrZQ==" MetadataSize="58315" event="postinstall" sha256="\(digestBase64)" needsadmin="false"/>
                </actions>
              </manifest>
            </updatecheck>
          </app>
        </response>
        """

    @Test func updateEngineSampleResponse() throws {
        let expected = OmahaUpdate(
            appID: "{87efface-864d-49a5-9bb3-4b050a7c227a}", version: "6873.0.0",
            urls: ["http://dl.google.com/chromeos/6873.0.0/x86-alex-dev/chromeos_6873.0.0_x86-alex_update.bin",
                   "https://dl.google.com/chromeos/6873.0.0/x86-alex-dev/chromeos_6873.0.0_x86-alex_update.bin"],
            packageName: "chromeos_6873.0.0_x86-alex_update.bin", size: 454_742_454, sha256: Self.digest,
            pollInterval: nil, maxFailureCountPerURL: 10, disablePayloadBackoff: false)
        #expect(try Self.parse(Self.updateEngineSample) == .update(expected))
    }

    /// What Nebraska sends a Flatcar machine, with the extension packages it adds.
    static func nebraska(_ updateCheck: String, appStatus: String = "ok") -> String {
        #"<?xml version="1.0" encoding="UTF-8"?>"#
            + #"<response protocol="3.0" server="nebraska"><daystart elapsed_seconds="0"/>"#
            + #"<app appid="e96281a6-d1af-4bde-9a0a-97b76e56dc57" status="\#(appStatus)"><ping status="ok"/>"#
            + updateCheck + "</app></response>"
    }

    static func nebraskaUpdate(manifest: String? = nil, poll: String = "") -> String {
        let manifest = manifest ?? #"<manifest version="4459.2.0"><packages>"#
            + #"<package name="flatcar_production_update.gz" hash="fBDdUd6mm3vXelYu0Wf/EApLbJM=" size="483213612" required="true"/>"#
            + #"<package name="oem-azure.gz" hash="x" hash_sha256="abcd" size="123" required="false"/>"#
            + #"</packages><actions><action event="postinstall" sha256="\#(digestBase64)" DisablePayloadBackoff="true"/>"#
            + "</actions></manifest>"
        return nebraska(#"<updatecheck status="ok"\#(poll)><urls><url codebase="https://update.release.flatcar-linux.net/amd64-usr/4459.2.0/"/></urls>"#
                        + manifest + "</updatecheck>")
    }

    @Test func nebraskaResponse() throws {
        let expected = OmahaUpdate(
            appID: "e96281a6-d1af-4bde-9a0a-97b76e56dc57", version: "4459.2.0",
            urls: ["https://update.release.flatcar-linux.net/amd64-usr/4459.2.0/flatcar_production_update.gz"],
            packageName: "flatcar_production_update.gz", size: 483_213_612, sha256: Self.digest,
            pollInterval: 3600, maxFailureCountPerURL: 10, disablePayloadBackoff: true)
        #expect(try Self.parse(Self.nebraskaUpdate(poll: #" PollInterval="3600""#)) == .update(expected))
    }

    @Test func multiManifestUsesTheFirst() throws {
        let manifest = { (version: String, extra: String) in
            #"<manifest version="\#(version)"\#(extra)><packages><package name="p-\#(version).gz" size="10" required="true"/></packages>"#
                + #"<actions><action event="postinstall" sha256="\#(Self.digestBase64)"/></actions></manifest>"#
        }
        let text = Self.nebraskaUpdate(manifest: manifest("4000.0.0", #" is_floor="true" floor_reason="x""#)
                                  + manifest("4459.2.0", #" is_target="true""#))
        guard case let .update(update) = try Self.parse(text) else { Issue.record("not an update"); return }
        #expect(update.version == "4000.0.0")
        #expect(update.packageName == "p-4000.0.0.gz")
    }

    @Test func optionalActionAttributes() throws {
        let manifest = #"<manifest version="1.2.3"><packages><package name="u.gz" size="5"/></packages><actions>"#
            + #"<action event="postinstall" sha256="\#(Self.digestBase64)" MaxFailureCountPerUrl="3" IsDeltaPayload="false"/>"#
            + "</actions></manifest>"
        guard case let .update(update) = try Self.parse(Self.nebraskaUpdate(manifest: manifest)) else {
            Issue.record("not an update"); return
        }
        #expect(update.maxFailureCountPerURL == 3)
        #expect(!update.disablePayloadBackoff)
        #expect(update.size == 5)
    }

    @Test func noUpdate() throws {
        #expect(try Self.parse(Self.nebraska(#"<updatecheck status="noupdate"/>"#)) == .noUpdate(pollInterval: nil))
        #expect(try Self.parse(Self.nebraska(#"<updatecheck status="noupdate" PollInterval="1800"/>"#)) == .noUpdate(pollInterval: 1800))
        // A poll interval is a hint: one that makes no sense is ignored, not fatal.
        #expect(try Self.parse(Self.nebraska(#"<updatecheck status="noupdate" PollInterval="soon"/>"#)) == .noUpdate(pollInterval: nil))
        #expect(try Self.parse(Self.nebraska(#"<updatecheck status="noupdate" PollInterval="-5"/>"#)) == .noUpdate(pollInterval: nil))
    }

    @Test(arguments: ["error-unknownApplication", "error-failedToRetrieveUpdatePackageInfo", "error-updatesDisabled",
                      "error-maxUpdatesPerPeriodLimitReached", "error-updateInProgressOnInstance", "restricted"])
    func nebraskaRefusalsBackOff(status: String) throws {
        let response = try Self.parse(Self.nebraska(#"<updatecheck status="error-internal"/>"#, appStatus: status))
        #expect(response == .backOff(reason: OmahaRefusal(status: status), pollInterval: nil))
        guard case let .backOff(reason, _) = response else { return }
        #expect(reason.description.contains(status))
        #expect(reason.description.contains("check again later"))
    }

    @Test func updateCheckErrorsBackOff() throws {
        // No updatecheck at all is fine when the app status already says why.
        #expect(try Self.parse(Self.nebraska("", appStatus: "error-unknownApplication"))
                == .backOff(reason: OmahaRefusal(status: "error-unknownApplication"), pollInterval: nil))
        for status in ["error-internal", "error-osnotsupported", "error-hash"] {
            #expect(try Self.parse(Self.nebraska(#"<updatecheck status="\#(status)" PollInterval="600"/>"#))
                    == .backOff(reason: OmahaRefusal(status: status), pollInterval: 600))
        }
        let disabled = OmahaRefusal(status: "error-updatesDisabled").description
        #expect(disabled.contains("office hours"))
    }

    @Test func onlyTheFirstAppCounts() throws {
        let text = #"<response protocol="3.0"><app appid="first" status="ok"><updatecheck status="noupdate"/></app>"#
            + #"<app appid="second" status="error-unknownApplication"/></response>"#
        #expect(try Self.parse(text) == .noUpdate(pollInterval: nil))
    }
}
