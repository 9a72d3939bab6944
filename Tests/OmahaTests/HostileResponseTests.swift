import Foundation
import Omaha
import Testing

/// Responses a broken, misconfigured or hostile server could send: each must give its typed
/// error, with update_engine's code, and never crash or hang.
@Suite struct HostileResponseTests {
    static func failure(_ body: [UInt8]) -> OmahaError? {
        do {
            _ = try OmahaResponse.parse(body)
            return nil
        } catch {
            return error
        }
    }

    static func failure(_ text: String) -> OmahaError? {
        failure(Array(text.utf8))
    }

    static let good = ResponseTests.nebraskaUpdate()

    /// The good Nebraska response with one piece replaced.
    static func variant(_ replace: String, _ with: String) -> String {
        precondition(good.contains(replace), "the fixture lost \(replace)")
        return good.replacingOccurrences(of: replace, with: with)
    }

    @Test func emptyIs30() {
        #expect(Self.failure([]) == .emptyResponse)
        #expect(OmahaError.emptyResponse.code.rawValue == 30)
    }

    @Test func notXMLIs31() throws {
        for text in ["Service Temporarily Unavailable", "   ", "{\"status\": \"ok\"}",
                     String(Self.good.prefix(Self.good.count / 2)), "<response><app></response>"] {
            let error = try #require(Self.failure(text), "\(text)")
            guard case .notXML = error else { Issue.record("\(text): \(error)"); continue }
            #expect(error.code.rawValue == 31)
            #expect(error.description.contains("not XML"))
        }
        // Bytes that are not UTF-8 at all.
        let binary = Self.failure([0x1F, 0x8B, 0x08, 0x00, 0xFF, 0xFE, 0x00])
        #expect(binary?.code.rawValue == 31)
    }

    @Test func notOmahaIs34() {
        let error = Self.failure("<html><head><title>Login</title></head><body/></html>")
        #expect(error == .notOmaha(root: "html"))
        #expect(error?.code.rawValue == 34)
        #expect(error?.description.contains("SERVER=") == true)
    }

    @Test func documentTypesAreRefused() {
        let laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [
              <!ENTITY lol "lol">
              <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
              <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
              <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
              <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
              <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
              <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
              <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
              <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
              <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
            ]>
            <response protocol="3.0"><app status="&lol9;"><updatecheck status="noupdate"/></app></response>
            """
        let external = """
            <?xml version="1.0"?>
            <!DOCTYPE response [<!ENTITY x SYSTEM "file:///etc/passwd">]>
            <response protocol="3.0"><app appid="&x;" status="ok"><updatecheck status="noupdate">&x;</updatecheck></app></response>
            """
        let portal = "<!DOCTYPE html><html><body>Sign in to the hotel Wi-Fi</body></html>"
        let externalDTD = #"<?xml version="1.0"?><!DOCTYPE response SYSTEM "http://127.0.0.1:1/x.dtd"><response/>"#
        for text in [laughs, external, portal, externalDTD] {
            let error = Self.failure(text)
            #expect(error == .documentTypeDeclaration)
            #expect(error?.code.rawValue == 31)
            #expect(error?.description.contains("<!DOCTYPE>") == true)
        }
    }

    @Test func oversizedBodiesAreNotParsed() {
        let huge = Array(("<response>" + String(repeating: "<x/>", count: 600_000) + "</response>").utf8)
        #expect(Self.failure(huge) == .tooLarge(size: huge.count, limit: OmahaResponse.sizeLimit))
        #expect(Self.failure(huge)?.code.rawValue == 31)
        // Just under the limit parses (and is then not an Omaha response).
        let padding = String(repeating: " ", count: OmahaResponse.sizeLimit - 20)
        #expect(Self.failure("<html>" + padding + "</html>") == .notOmaha(root: "html"))
    }

    @Test func deepNestingIsRefused() throws {
        let depth = 100_000
        let text = "<response>" + String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth) + "</response>"
        let error = try #require(Self.failure(text))
        guard case .notXML = error else { Issue.record("\(error)"); return }
        // Nesting libxml2 accepts is simply ignored.
        let shallow = "<response><app status=\"ok\"><updatecheck status=\"noupdate\">"
            + String(repeating: "<a>", count: 200) + String(repeating: "</a>", count: 200) + "</updatecheck></app></response>"
        #expect(try OmahaResponse.parse(Array(shallow.utf8)) == .noUpdate(pollInterval: nil))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var error: OmahaError
        var testDescription: String { name }
    }

    static let updateCheck = "response/app/updatecheck"
    static let cases: [Case] = [
        Case(name: "no app", text: #"<response protocol="3.0"><daystart elapsed_seconds="0"/></response>"#,
             error: .missingElement("response/app")),
        Case(name: "no updatecheck", text: ResponseTests.nebraska(""), error: .missingElement(updateCheck)),
        Case(name: "no status", text: ResponseTests.nebraska("<updatecheck/>"),
             error: .missingAttribute(element: "updatecheck", attribute: "status")),
        Case(name: "unknown status", text: ResponseTests.nebraska(#"<updatecheck status="maybe"/>"#),
             error: .invalidAttribute(element: "updatecheck", attribute: "status", value: "maybe",
                                      expected: "\"ok\", \"noupdate\" or \"error-…\"")),
        Case(name: "no urls", text: variant(#"<urls><url codebase="https://update.release.flatcar-linux.net/amd64-usr/4459.2.0/"/></urls>"#, ""),
             error: .missingElement(updateCheck + "/urls/url")),
        Case(name: "empty urls", text: variant(#"<url codebase="https://update.release.flatcar-linux.net/amd64-usr/4459.2.0/"/>"#, ""),
             error: .missingElement(updateCheck + "/urls/url")),
        Case(name: "empty codebase", text: variant(#"codebase="https://update.release.flatcar-linux.net/amd64-usr/4459.2.0/""#, #"codebase="""#),
             error: .invalidAttribute(element: "url", attribute: "codebase", value: "", expected: "not empty")),
        Case(name: "file codebase", text: variant("https://update.release.flatcar-linux.net/amd64-usr/4459.2.0/", "file:///etc/"),
             error: .invalidAttribute(element: "url", attribute: "codebase", value: "file:///etc/", expected: "an http or https URL")),
        Case(name: "no manifest", text: ResponseTests.nebraskaUpdate(manifest: ""), error: .missingElement(updateCheck + "/manifest")),
        Case(name: "no manifest version", text: variant(#"<manifest version="4459.2.0">"#, "<manifest>"),
             error: .missingAttribute(element: "manifest", attribute: "version")),
        Case(name: "no package", text: variant(#"<package name="flatcar_production_update.gz" hash="fBDdUd6mm3vXelYu0Wf/EApLbJM=" size="483213612" required="true"/><package name="oem-azure.gz" hash="x" hash_sha256="abcd" size="123" required="false"/>"#, ""),
             error: .missingElement(updateCheck + "/manifest/packages/package")),
        Case(name: "no package name", text: variant(#"name="flatcar_production_update.gz" "#, ""),
             error: .missingAttribute(element: "package", attribute: "name")),
        Case(name: "no size", text: variant(#"size="483213612" "#, ""), error: .missingAttribute(element: "package", attribute: "size")),
        Case(name: "size 0", text: variant(#"size="483213612""#, #"size="0""#), error: sizeError("0")),
        Case(name: "negative size", text: variant(#"size="483213612""#, #"size="-1""#), error: sizeError("-1")),
        Case(name: "signed size", text: variant(#"size="483213612""#, #"size="+5""#), error: sizeError("+5")),
        Case(name: "size over 64 GiB", text: variant(#"size="483213612""#, #"size="68719476737""#), error: sizeError("68719476737")),
        Case(name: "size overflows", text: variant(#"size="483213612""#, #"size="99999999999999999999999""#),
             error: sizeError("99999999999999999999999")),
        Case(name: "no actions", text: variant(#"<actions><action event="postinstall" sha256="\#(ResponseTests.digestBase64)" DisablePayloadBackoff="true"/></actions>"#, ""),
             error: .missingElement(updateCheck + "/manifest/actions/action event=\"postinstall\"")),
        Case(name: "no postinstall action", text: variant(#"event="postinstall""#, #"event="update""#),
             error: .missingElement(updateCheck + "/manifest/actions/action event=\"postinstall\"")),
        Case(name: "no sha256", text: variant(#"sha256="\#(ResponseTests.digestBase64)" "#, ""),
             error: .missingAttribute(element: "action", attribute: "sha256")),
        Case(name: "sha256 not base64", text: variant(ResponseTests.digestBase64, "not*base64!"), error: digestError("not*base64!")),
        Case(name: "sha256 in hex", text: variant(ResponseTests.digestBase64, String(repeating: "ab", count: 32)),
             error: digestError(String(repeating: "ab", count: 32))),
        Case(name: "sha256 of 20 bytes", text: variant(ResponseTests.digestBase64, Data(count: 20).base64EncodedString()),
             error: digestError(Data(count: 20).base64EncodedString())),
        Case(name: "sha256 of 33 bytes", text: variant(ResponseTests.digestBase64, Data(count: 33).base64EncodedString()),
             error: digestError(Data(count: 33).base64EncodedString())),
        Case(name: "delta payload", text: variant(#"DisablePayloadBackoff="true""#, #"IsDeltaPayload="true""#), error: .deltaPayload),
        Case(name: "bad MaxFailureCountPerUrl", text: variant(#"DisablePayloadBackoff="true""#, #"MaxFailureCountPerUrl="many""#),
             error: .invalidAttribute(element: "action", attribute: "MaxFailureCountPerUrl", value: "many",
                                      expected: "a whole number from 0 to 10000")),
    ]

    static func sizeError(_ value: String) -> OmahaError {
        .invalidAttribute(element: "package", attribute: "size", value: value,
                          expected: "a whole number of bytes from 1 to \(OmahaResponse.payloadSizeLimit)")
    }

    static func digestError(_ value: String) -> OmahaError {
        .invalidAttribute(element: "action", attribute: "sha256", value: value,
                          expected: "the base64 encoding of a 32-byte SHA-256 digest")
    }

    @Test(arguments: cases) func structuralProblemsAre34(_ test: Case) {
        let error = Self.failure(test.text)
        #expect(error == test.error)
        #expect(error?.code.rawValue == 34)
        #expect(error?.description.contains("update server") == true)
    }

    @Test func messagesClipWhatTheServerSent() {
        let long = String(repeating: "x", count: 10_000)
        let error = Self.failure(ResponseTests.nebraska(#"<updatecheck status="\#(long)"/>"#))
        let description = error?.description ?? ""
        #expect(description.count < 600)
        #expect(description.contains("…"))
    }
}

