/// How the last transaction ended, as `LastResult` reports it and state.json keeps it.
public struct ResultRecord: Codable, Sendable, Equatable {
    public var transaction: String
    public var code: ResultCode
    public var message: String
    public var version: String
    public var time: Int64
    public var bootID: String

    public init(transaction: String, code: ResultCode, message: String, version: String, time: Int64, bootID: String) {
        self.transaction = transaction
        self.code = code
        self.message = message
        self.version = version
        self.time = time
        self.bootID = bootID
    }
}
