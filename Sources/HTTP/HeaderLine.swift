/// One header line as libcurl hands it over, for both kinds of transfer: the one parser.
enum HeaderLine: Equatable {
    /// `HTTP/1.1 200 OK`: a new response begins (after a redirect or a 100), and the headers
    /// seen so far belong to the one before.
    case status
    /// A field, its name lowercased and its value trimmed.
    case field(name: String, value: String)
    /// The blank line that ends the headers, or a line that is neither.
    case other

    init(_ raw: UnsafeRawBufferPointer) {
        let line = String(decoding: raw, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            self = .status
        } else if let colon = line.firstIndex(of: ":") {
            self = .field(name: line[..<colon].lowercased(), value: String(line[line.index(after: colon)...]).trimmingWhitespace())
        } else {
            self = .other
        }
    }
}
