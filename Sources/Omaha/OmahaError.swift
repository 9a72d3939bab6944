/// Why a response from the update server could not be used. Each case has the error code
/// update_engine reports for it (`code`), and says what was wrong in the response.
public enum OmahaError: Error, Equatable, CustomStringConvertible {
    /// The body was empty.
    case emptyResponse
    /// The body was larger than any Omaha response, so it was not parsed.
    case tooLarge(size: Int, limit: Int)
    /// The body is not well-formed XML; libxml2's reason.
    case notXML(String)
    /// The document declares a document type, where entities could hide.
    case documentTypeDeclaration
    /// The document is XML, but its root is not `<response>`.
    case notOmaha(root: String)
    /// An element the response needs is missing; its path from `response`.
    case missingElement(String)
    case missingAttribute(element: String, attribute: String)
    /// An attribute is there but unusable; `expected` says what it should have been.
    case invalidAttribute(element: String, attribute: String, value: String, expected: String)
    /// `IsDeltaPayload="true"`: Tandem installs full images only.
    case deltaPayload

    /// What update_engine reports for the same response: 30, 31 or 34.
    public var code: OmahaErrorCode {
        switch self {
        case .emptyResponse: .omahaRequestEmptyResponse
        case .tooLarge, .notXML, .documentTypeDeclaration: .omahaRequestXMLParseError
        case .notOmaha, .missingElement, .missingAttribute, .invalidAttribute, .deltaPayload: .omahaResponseInvalid
        }
    }

    public var description: String {
        let server = "check the update server's address (SERVER= in update.conf, Server= in tandem.conf)"
        let misconfigured = "the update server is misconfigured or is not an Omaha server; " + server
        switch self {
        case .emptyResponse:
            return "the update server sent an empty response; " + misconfigured
        case let .tooLarge(size, limit):
            return "the update server sent \(size) bytes, more than the \(limit) any Omaha response needs; "
                + "it was not read; " + misconfigured
        case let .notXML(reason):
            return "the update server's response is not XML (\(reason)); " + misconfigured
                + ", and that no proxy or captive portal answers in its place"
        case .documentTypeDeclaration:
            return "the update server's response declares a document type (<!DOCTYPE>), which no Omaha server "
                + "sends and which can hide entity tricks; it was refused; " + misconfigured
        case let .notOmaha(root):
            return "the update server's response is <\(clipped(root))>, not an Omaha <response>; " + misconfigured
        case let .missingElement(path):
            return "the update server's response has no <\(path)>; " + misconfigured
        case let .missingAttribute(element, attribute):
            return "the update server's response has no '\(attribute)' on <\(element)>; " + misconfigured
        case let .invalidAttribute(element, attribute, value, expected):
            return "the update server's response has \(attribute)=\"\(clipped(value))\" on <\(element)>, "
                + "but it must be \(expected); " + misconfigured
        case .deltaPayload:
            return "the update server offers a delta payload, but Tandem installs full images only; "
                + "configure the server to offer the full update to this group"
        }
    }
}

/// A value from the response as a message can show it: short, whatever the server sent.
func clipped(_ value: String) -> String {
    let limit = 80
    return value.count <= limit ? value : String(value.prefix(limit)) + "…"
}
