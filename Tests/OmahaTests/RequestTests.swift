import Foundation
import FoundationXML
import Omaha
import Testing

@Suite struct RequestTests {
    static func request(_ body: OmahaRequest.Body, alias: String = "web-1") -> OmahaRequest {
        OmahaRequest(installSource: .scheduler, appID: "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}", version: "4459.0.0",
                     track: "stable", bootID: "0f3e7a4c-5d1b-4c2e-9a8f-1b2c3d4e5f60", oem: "qemu", oemVersion: "0.1",
                     alephVersion: "3975.2.0", machineID: "b4c1a8e2f7d94c3a9e1f0a2b3c4d5e6f", machineAlias: alias,
                     board: "amd64-usr", architecture: "x86_64", body: body)
    }

    static func text(_ request: OmahaRequest) -> String {
        String(decoding: request.xml(), as: UTF8.self)
    }

    static func document(_ request: OmahaRequest) throws -> XMLDocument {
        try XMLDocument(data: Data(request.xml()))
    }

    /// The attribute names of the first `<tag …>` in the raw text, in the order written.
    static func attributeOrder(_ tag: String, in text: String) throws -> [String] {
        let start = try #require(text.range(of: "<\(tag) "))
        let end = try #require(text[start.upperBound...].firstIndex(of: ">"))
        return text[start.upperBound..<end].matches(of: /([a-z_]+)="/).map { String($0.output.1) }
    }

    static func attributes(_ element: XMLElement) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (element.attributes ?? []).map { ($0.name ?? "", $0.stringValue ?? "") })
    }

    @Test func envelopeIsUpdateEngines() throws {
        let text = Self.text(Self.request(.ping))
        #expect(text.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<request "))
        #expect(try Self.attributeOrder("request", in: text) == ["protocol", "version", "updaterversion", "installsource", "ismachine"])
        let root = try #require(try Self.document(Self.request(.ping)).rootElement())
        #expect(root.name == "request")
        #expect(Self.attributes(root) == ["protocol": "3.0", "version": "tandem-0.1.0", "updaterversion": "tandem-0.1.0",
                                          "installsource": "scheduler", "ismachine": "1"])
        #expect(!text.contains("CoreOSUpdateEngine"))

        var onDemand = Self.request(.ping)
        onDemand.installSource = .onDemand
        onDemand.clientVersion = "tandem-2.0"
        let custom = try #require(try Self.document(onDemand).rootElement())
        #expect(custom.attribute(forName: "installsource")?.stringValue == "ondemandupdate")
        #expect(custom.attribute(forName: "version")?.stringValue == "tandem-2.0")
        #expect(custom.attribute(forName: "updaterversion")?.stringValue == "tandem-2.0")
    }

    @Test func osElement() throws {
        let text = Self.text(Self.request(.ping))
        #expect(text.contains("<os version=\"Chateau\" platform=\"CoreOS\" sp=\"4459.0.0_x86_64\"></os>"))
        #expect(try Self.attributeOrder("os", in: text) == ["version", "platform", "sp"])
    }

    @Test func appAttributesInUpdateEnginesOrder() throws {
        let request = Self.request(.ping)
        let text = Self.text(request)
        #expect(try Self.attributeOrder("app", in: text) == [
            "appid", "version", "track", "bootid", "oem", "oemversion", "alephversion", "machineid", "machinealias",
            "lang", "board", "hardware_class", "delta_okay",
        ])
        #expect(text.contains("delta_okay=\"false\" >\n"))
        let app = try #require(try Self.document(request).rootElement()?.elements(forName: "app").first)
        #expect(Self.attributes(app) == [
            "appid": "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}", "version": "4459.0.0", "track": "stable",
            "bootid": "{0f3e7a4c-5d1b-4c2e-9a8f-1b2c3d4e5f60}", "oem": "qemu", "oemversion": "0.1",
            "alephversion": "3975.2.0", "machineid": "b4c1a8e2f7d94c3a9e1f0a2b3c4d5e6f", "machinealias": "web-1",
            "lang": "en-US", "board": "amd64-usr", "hardware_class": "", "delta_okay": "false",
        ])
    }

    @Test func valuesAreEscaped() throws {
        let hostile = #"a<b>&"c'd"#
        var request = Self.request(.updateCheck(previousVersion: hostile), alias: hostile)
        request.track = hostile
        let text = Self.text(request)
        let escaped = "a&lt;b&gt;&amp;&quot;c&apos;d"
        #expect(text.contains("machinealias=\"\(escaped)\""))
        #expect(text.contains("track=\"\(escaped)\""))
        #expect(text.contains("previousversion=\"\(escaped)\""))
        let root = try #require(try Self.document(request).rootElement())
        let app = try #require(root.elements(forName: "app").first)
        #expect(app.attribute(forName: "machinealias")?.stringValue == hostile)
        #expect(app.attribute(forName: "track")?.stringValue == hostile)
        #expect(app.elements(forName: "event").first?.attribute(forName: "previousversion")?.stringValue == hostile)
    }

    static func body(_ body: OmahaRequest.Body) throws -> [(name: String, attributes: [String: String])] {
        let app = try #require(try document(request(body)).rootElement()?.elements(forName: "app").first)
        return (app.children ?? []).compactMap { $0 as? XMLElement }.map { ($0.name ?? "", attributes($0)) }
    }

    @Test func updateCheckBody() throws {
        let text = Self.text(Self.request(.updateCheck(previousVersion: "4426.0.0")))
        #expect(text.contains("<ping active=\"1\"></ping>\n        <updatecheck></updatecheck>\n"
                              + "        <event eventtype=\"3\" eventresult=\"2\" previousversion=\"4426.0.0\"></event>\n"))
        let body = try Self.body(.updateCheck(previousVersion: "4426.0.0"))
        #expect(body.map(\.name) == ["ping", "updatecheck", "event"])
        #expect(body[0].attributes == ["active": "1"])
        #expect(body[1].attributes == [:])
        #expect(body[2].attributes == ["eventtype": "3", "eventresult": "2", "previousversion": "4426.0.0"])
        #expect(try Self.body(.updateCheck(previousVersion: ""))[2].attributes["previousversion"] == "")
    }

    @Test func rollbackUpdateCheckBody() throws {
        let body = try Self.body(.updateCheckAfterRollback)
        #expect(body.map(\.name) == ["ping", "updatecheck", "event"])
        #expect(body[2].attributes == ["eventtype": "3", "eventresult": "0", "errorcode": "44"])
        #expect(Self.text(Self.request(.updateCheckAfterRollback)).contains("eventtype=\"3\" eventresult=\"0\" errorcode=\"44\""))
    }

    @Test func pingOnlyBody() throws {
        let body = try Self.body(.ping)
        #expect(body.map(\.name) == ["ping"])
        #expect(body[0].attributes == ["active": "1"])
    }

    @Test func eventBodies() throws {
        let started = try Self.body(.event(.downloadStarted))
        #expect(started.map(\.name) == ["event"])
        #expect(started[0].attributes == ["eventtype": "13", "eventresult": "1"])
        #expect(try Self.body(.event(.downloadFinished))[0].attributes == ["eventtype": "14", "eventresult": "1"])
        #expect(try Self.body(.event(.installed))[0].attributes == ["eventtype": "3", "eventresult": "1"])
        // A success never carries a code, even if one was set.
        let success = OmahaEvent(type: .updateComplete, result: .success, errorCode: .error)
        #expect(try Self.body(.event(success))[0].attributes == ["eventtype": "3", "eventresult": "1"])

        let code = OmahaErrorCode.payloadHashMismatch.adding([.resumed, .testOmahaURL])
        #expect(try Self.body(.event(.failed(code)))[0].attributes
                == ["eventtype": "3", "eventresult": "0", "errorcode": "\((1 << 30) | (1 << 28) | 10)"])
        let deferred = OmahaEvent(type: .updateComplete, result: .updateDeferred, errorCode: .omahaUpdateDeferredForBackoff)
        #expect(try Self.body(.event(deferred))[0].attributes == ["eventtype": "3", "eventresult": "9", "errorcode": "40"])
        #expect(Self.text(Self.request(.event(.downloadStarted)))
            .contains("<event eventtype=\"13\" eventresult=\"1\"></event>\n    </app>\n</request>\n"))
    }
}
