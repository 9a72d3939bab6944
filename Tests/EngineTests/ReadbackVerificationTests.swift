import Engine
import Testing

/// An install request's read-back choice against `VerifyReadback=`: asking nothing follows the
/// configuration either way, and an explicit choice wins over it.
struct ReadbackVerificationTests {
    @Test(arguments: [true, false])
    func nothingAskedFollowsTheConfiguration(setting: Bool) {
        #expect(ReadbackVerification.configured.resolved(configured: setting) == setting)
        #expect(InstallRequest(source: nil).readback == .configured)
    }

    @Test(arguments: [true, false])
    func anExplicitChoiceWins(setting: Bool) {
        #expect(ReadbackVerification.verify.resolved(configured: setting))
        #expect(!ReadbackVerification.skip.resolved(configured: setting))
    }
}
