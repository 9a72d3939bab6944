@testable import Engine
import Testing

@Suite struct AdminPolicyTests {
    static let wheel = AdminPolicy(groupName: "wheel", groupID: 10)

    @Test(arguments: [
        AdminPolicy(groupName: "wheel", groupID: 10),
        AdminPolicy(groupName: "no-such-group", groupID: nil),
        AdminPolicy(groupName: nil, groupID: nil),
    ])
    func rootIsAlwaysPermitted(policy: AdminPolicy) {
        #expect(policy.permits(uid: 0, gid: nil, groups: []))
        #expect(policy.permits(uid: 0, gid: 0, groups: []))
        #expect(policy.permits(uid: 0, gid: 1234, groups: [5678]))
    }

    @Test func aMemberByPrimaryGroupIsPermitted() {
        #expect(Self.wheel.permits(uid: 1000, gid: 10, groups: []))
    }

    @Test func aMemberBySupplementaryGroupIsPermitted() {
        #expect(Self.wheel.permits(uid: 1000, gid: 1000, groups: [4, 10, 27]))
        #expect(Self.wheel.permits(uid: 1000, gid: nil, groups: [10]))
    }

    @Test func aNonMemberIsRefused() {
        #expect(!Self.wheel.permits(uid: 1000, gid: 1000, groups: [4, 27, 100]))
        #expect(!Self.wheel.permits(uid: 1000, gid: nil, groups: []))
        #expect(!Self.wheel.permits(uid: 65534, gid: 65534, groups: []))
        // gid 0 is not uid 0: membership of group root does not make a caller root.
        #expect(!Self.wheel.permits(uid: 1000, gid: 0, groups: [0]))
    }

    @Test func aGroupThatDoesNotExistPermitsOnlyRoot() {
        let policy = AdminPolicy(groupName: "tandem-no-such-group", groupID: nil)
        #expect(policy.permits(uid: 0, gid: 0, groups: []))
        #expect(!policy.permits(uid: 1000, gid: 1000, groups: [10, 1000]))
        // Even a caller whose ids happen to be 0-like besides the uid.
        #expect(!policy.permits(uid: 1, gid: 0, groups: [0]))
    }

    @Test func aNonexistentGroupIsLookedUpAsNil() {
        let policy = AdminPolicy(groupName: "tandem-test-group-that-does-not-exist")
        #expect(policy.groupName == "tandem-test-group-that-does-not-exist")
        #expect(policy.groupID == nil)
        #expect(!policy.permits(uid: 1000, gid: 1000, groups: []))
        #expect(policy.permits(uid: 0, gid: 0, groups: []))
    }

    @Test func anExistingGroupIsLookedUp() {
        let policy = AdminPolicy(groupName: "root")
        #expect(policy.groupName == "root")
        #expect(policy.groupID == 0)
        #expect(policy.permits(uid: 1000, gid: 0, groups: []))
        #expect(policy.permits(uid: 1000, gid: 1000, groups: [0]))
        #expect(!policy.permits(uid: 1000, gid: 1000, groups: [1000]))
    }

    @Test func noGroupMeansOnlyRoot() {
        let policy = AdminPolicy(groupName: nil)
        #expect(policy.groupID == nil)
        #expect(!policy.permits(uid: 1000, gid: 10, groups: [10]))
        #expect(policy.permits(uid: 0, gid: nil, groups: []))
    }

    @Test func theDenialNamesTheActionTheUidAndTheGroup() {
        let text = Self.wheel.denial(action: "Install", uid: 1000)
        #expect(text == "Install needs root or membership in the group 'wheel'; the caller is uid 1000, which is neither; "
            + "run it with sudo, or add the user to 'wheel'")
        #expect(!text.contains("does not exist"))
    }

    @Test func theDenialSaysWhenTheGroupDoesNotExist() {
        let text = AdminPolicy(groupName: "admins", groupID: nil).denial(action: "Cancel", uid: 1001)
        #expect(text == "Cancel needs root or membership in the group 'admins' (that group does not exist on this system); "
            + "the caller is uid 1001, which is neither; run it with sudo, or add the user to 'admins'")
    }

    @Test func theDenialWithoutAGroupAsksForRoot() {
        let text = AdminPolicy(groupName: nil, groupID: nil).denial(action: "Reboot", uid: 1002)
        #expect(text == "Reboot needs root (the caller is uid 1002); run it with sudo")
        #expect(!text.contains("group"))
    }
}
