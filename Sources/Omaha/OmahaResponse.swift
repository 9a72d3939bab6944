import FoundationEssentials

/// What an update check's response means, read the way update_engine reads it
/// (`OmahaRequestAction::ParseResponse`): the first `<app>`, its `<updatecheck>`, and of an
/// offered update the first manifest, the first package and the postinstall action.
public enum OmahaResponse: Hashable, Sendable {
    case noUpdate(pollInterval: Int?)
    case update(OmahaUpdate)
    /// The server declined the check for now; check again later.
    case backOff(reason: OmahaRefusal, pollInterval: Int?)

    /// Larger than any real response (Nebraska's are about 1 KiB), small enough to parse safely.
    public static let sizeLimit = 1 << 20
    /// The largest payload accepted: far above any OS image, far below what would overflow or
    /// fill a disk before the size check of the download noticed.
    public static let payloadSizeLimit: UInt64 = 64 << 30

    public static func parse(_ body: [UInt8]) throws(OmahaError) -> OmahaResponse {
        let root = try document(body)
        guard let app = root.child("app") else { throw .missingElement("response/app") }
        let updateCheck = app.child("updatecheck")
        let pollInterval = updateCheck?.attribute("PollInterval").flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil }

        if let status = app.attribute("status"), status != "ok" {
            return .backOff(reason: OmahaRefusal(status: status), pollInterval: pollInterval)
        }
        guard let updateCheck else { throw .missingElement("response/app/updatecheck") }
        switch updateCheck.attribute("status") {
        case "noupdate":
            return .noUpdate(pollInterval: pollInterval)
        case "ok":
            return .update(try offeredUpdate(updateCheck, appID: app.attribute("appid"), pollInterval: pollInterval))
        case let status? where status.hasPrefix("error-"):
            return .backOff(reason: OmahaRefusal(status: status), pollInterval: pollInterval)
        case let status?:
            throw .invalidAttribute(element: "updatecheck", attribute: "status", value: status,
                                    expected: "\"ok\", \"noupdate\" or \"error-…\"")
        case nil:
            throw .missingAttribute(element: "updatecheck", attribute: "status")
        }
    }

    /// Checks the answer to an event or a ping: an Omaha `<response>`, and nothing else is read.
    public static func checkAcknowledgement(_ body: [UInt8]) throws(OmahaError) {
        _ = try document(body)
    }

    /// The `<response>` element of a body that is not empty, not oversized and well-formed.
    private static func document(_ body: [UInt8]) throws(OmahaError) -> ParsedElement {
        guard !body.isEmpty else { throw .emptyResponse }
        guard body.count <= sizeLimit else { throw .tooLarge(size: body.count, limit: sizeLimit) }
        let root = try ParsedXML.parse(body)
        guard root.name == "response" else { throw .notOmaha(root: root.name) }
        return root
    }

    private static func offeredUpdate(_ updateCheck: ParsedElement, appID: String?,
                                      pollInterval: Int?) throws(OmahaError) -> OmahaUpdate {
        let path = "response/app/updatecheck"
        var codebases: [String] = []
        for url in updateCheck.child("urls")?.children("url") ?? [] {
            let codebase = try required(url, "codebase")
            let scheme = codebase.lowercased()
            guard scheme.hasPrefix("http://") || scheme.hasPrefix("https://") else {
                throw .invalidAttribute(element: "url", attribute: "codebase", value: codebase, expected: "an http or https URL")
            }
            codebases.append(codebase)
        }
        guard !codebases.isEmpty else { throw .missingElement(path + "/urls/url") }

        // Nebraska may send several manifests (floors first); update_engine reads the first.
        guard let manifest = updateCheck.child("manifest") else { throw .missingElement(path + "/manifest") }
        let version = try required(manifest, "version")
        guard let package = manifest.child("packages")?.child("package") else {
            throw .missingElement(path + "/manifest/packages/package")
        }
        let name = try required(package, "name")
        let sizeText = try required(package, "size")
        guard sizeText.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let size = UInt64(sizeText), (1...payloadSizeLimit).contains(size) else {
            throw .invalidAttribute(element: "package", attribute: "size", value: sizeText,
                                    expected: "a whole number of bytes from 1 to \(payloadSizeLimit)")
        }

        guard let action = manifest.child("actions")?.children("action").first(where: { $0.attribute("event") == "postinstall" }) else {
            throw .missingElement(path + "/manifest/actions/action event=\"postinstall\"")
        }
        if action.attribute("IsDeltaPayload") == "true" { throw .deltaPayload }
        let digestText = try required(action, "sha256")
        guard let digest = Data(base64Encoded: digestText), digest.count == 32 else {
            throw .invalidAttribute(element: "action", attribute: "sha256", value: digestText,
                                    expected: "the base64 encoding of a 32-byte SHA-256 digest")
        }
        var maxFailureCount = 10
        if let text = action.attribute("MaxFailureCountPerUrl") {
            guard let count = Int(text), (0...10_000).contains(count) else {
                throw .invalidAttribute(element: "action", attribute: "MaxFailureCountPerUrl", value: text,
                                        expected: "a whole number from 0 to 10000")
            }
            maxFailureCount = count
        }

        return OmahaUpdate(
            appID: appID, version: version,
            urls: codebases.map { $0.hasSuffix("/") ? $0 + name : $0 + "/" + name },
            packageName: name, size: size, sha256: [UInt8](digest), pollInterval: pollInterval,
            maxFailureCountPerURL: maxFailureCount,
            disablePayloadBackoff: action.attribute("DisablePayloadBackoff") == "true")
    }

    /// An attribute that must be present and not empty.
    private static func required(_ element: ParsedElement, _ attribute: String) throws(OmahaError) -> String {
        guard let value = element.attribute(attribute) else {
            throw .missingAttribute(element: element.name, attribute: attribute)
        }
        guard !value.isEmpty else {
            throw .invalidAttribute(element: element.name, attribute: attribute, value: value, expected: "not empty")
        }
        return value
    }
}
