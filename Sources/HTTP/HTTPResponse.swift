/// What the server answered, whatever the status: the caller decides what a 423 or a 500 means.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    /// Header names lowercased; of a header sent twice, the last value. Only the final
    /// response's headers count after a redirect.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The body as text, for error messages and JSON; invalid UTF-8 is replaced, not refused.
    public var text: String { String(decoding: body, as: UTF8.self) }
}
