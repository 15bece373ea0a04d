package directory

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

// UserInput is what a caller sets when creating a user.
type UserInput struct {
	UserPrincipalName string
	DisplayName       string
	// MailNickname defaults to the part of the UPN before the @.
	MailNickname string
	// AccountEnabled defaults to true.
	AccountEnabled *bool
	Password       string
	// ForceChangePassword is passwordProfile.forceChangePasswordNextSignIn.
	ForceChangePassword bool
	// GivenName, Surname and Mail are optional; empty leaves them unset.
	GivenName string
	Surname   string
	Mail      string
}

// Graph's limits on the profile fields tokens carry as optional claims.
const (
	maxNameLength = 64
	maxMailLength = 254
)

// checkProfile validates givenName, surname and mail; nil pointers are
// not being set, and an empty value clears the field.
func checkProfile(givenName, surname, mail *string) error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"givenName", givenName}, {"surname", surname}} {
		if f.v != nil && (utf8.RuneCountInString(*f.v) > maxNameLength || strings.ContainsFunc(*f.v, unicode.IsControl)) {
			return invalidf("Invalid value specified for property '%s' of resource 'User'.", f.name)
		}
	}
	if mail != nil && *mail != "" && !validMail(*mail) {
		return invalidf("Invalid value specified for property 'mail' of resource 'User'.")
	}
	return nil
}

// validMail accepts a bare addr-spec: no display name, no angle brackets,
// nothing net/mail would rewrite, since tokens carry the value as stored.
func validMail(s string) bool {
	if len(s) > maxMailLength {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// Password rules as Entra applies them to cloud accounts.
const (
	minPasswordLength = 8
	maxPasswordLength = 256
)

var errPasswordComplexity = fault.New(fault.Invalid, CodePasswordComplexity, "The specified password does not comply with password complexity requirements. Please provide a different password.")

// CheckPasswordComplexity applies Entra's rule: 8 to 256 characters with at
// least three of lower case, upper case, digits and symbols.
func CheckPasswordComplexity(p string) error {
	if len(p) < minPasswordLength || len(p) > maxPasswordLength {
		return errPasswordComplexity
	}
	var lower, upper, digit, symbol int
	for _, r := range p {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		case unicode.IsControl(r):
			return errPasswordComplexity
		default:
			symbol = 1
		}
	}
	if lower+upper+digit+symbol < 3 {
		return errPasswordComplexity
	}
	return nil
}

// validUPNLocal: the characters Entra allows before the @ of a UPN.
func validUPNLocal(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("'.-_!#^~", r)) {
			return false
		}
	}
	return true
}

// checkUPN validates a UPN's shape and that its domain is one of the
// tenant's verified domains.
func (s *Service) checkUPN(ctx context.Context, st store.Tenants, tenantID, upn string) error {
	local, dom, ok := strings.Cut(upn, "@")
	if !ok || strings.Contains(dom, "@") || !validUPNLocal(local) || len(upn) > 113 {
		return invalidf("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
	}
	t, err := st.GetTenant(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("load tenant %s: %w", tenantID, err)
	}
	for _, d := range t.Domains {
		if strings.EqualFold(d, dom) {
			return nil
		}
	}
	return invalidf("The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.")
}

// CreateUser creates a user with an argon2id hash of the password.
func (s *Service) CreateUser(ctx context.Context, tenantID string, in UserInput) (domain.User, error) {
	if strings.TrimSpace(in.DisplayName) == "" || len(in.DisplayName) > 256 {
		return domain.User{}, invalidf("Invalid value specified for property 'displayName' of resource 'User'.")
	}
	if in.Password == "" {
		return domain.User{}, invalidf("Invalid value specified for property 'passwordProfile' of resource 'User'.")
	}
	if err := s.checkUPN(ctx, s.store, tenantID, in.UserPrincipalName); err != nil {
		return domain.User{}, err
	}
	nick := in.MailNickname
	if nick == "" {
		nick, _, _ = strings.Cut(in.UserPrincipalName, "@")
	}
	if err := validateMailNickname(nick, "User"); err != nil {
		return domain.User{}, err
	}
	if err := checkProfile(&in.GivenName, &in.Surname, &in.Mail); err != nil {
		return domain.User{}, err
	}
	if err := CheckPasswordComplexity(in.Password); err != nil {
		return domain.User{}, err
	}
	hash, err := s.passwords.Hash(ctx, in.Password)
	if err != nil {
		return domain.User{}, fmt.Errorf("hash password: %w", err)
	}
	now := s.now().UTC()
	u := domain.User{
		ID: NewID(), TenantID: tenantID, UserPrincipalName: in.UserPrincipalName, DisplayName: in.DisplayName,
		MailNickname: nick, GivenName: in.GivenName, Surname: in.Surname, Mail: in.Mail,
		AccountEnabled: in.AccountEnabled == nil || *in.AccountEnabled,
		PasswordHash:   hash, PasswordChangedAt: now, CreatedAt: now, ForceChangePassword: in.ForceChangePassword,
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return domain.User{}, fmt.Errorf("create user %s: %w", in.UserPrincipalName, err)
	}
	return u, nil
}

// GetUser finds a user by object id or user principal name.
func (s *Service) GetUser(ctx context.Context, tenantID, idOrUPN string) (domain.User, error) {
	return getUser(ctx, s.store, tenantID, idOrUPN)
}

func getUser(ctx context.Context, st store.Users, tenantID, idOrUPN string) (domain.User, error) {
	if strings.Contains(idOrUPN, "@") {
		return st.GetUserByUPN(ctx, tenantID, idOrUPN)
	}
	return st.GetUser(ctx, tenantID, normID(idOrUPN))
}

// ListUsers returns the tenant's users.
func (s *Service) ListUsers(ctx context.Context, tenantID string) ([]domain.User, error) {
	return s.store.ListUsers(ctx, tenantID)
}

// UserPatch lists the user fields a PATCH may change; nil means unchanged.
type UserPatch struct {
	DisplayName       *string
	MailNickname      *string
	UserPrincipalName *string
	AccountEnabled    *bool
	// Password resets the password; PasswordChangedAt moves to now, which
	// ends the sessions and refresh tokens issued before.
	Password *string
	// ForceChangePassword sets passwordProfile.forceChangePasswordNextSignIn.
	ForceChangePassword *bool
	// GivenName, Surname and Mail: an empty value clears the field.
	GivenName *string
	Surname   *string
	Mail      *string
}

// UpdateUser applies patch to a user addressed by id or UPN.
func (s *Service) UpdateUser(ctx context.Context, tenantID, idOrUPN string, p UserPatch) (domain.User, error) {
	if err := checkProfile(p.GivenName, p.Surname, p.Mail); err != nil {
		return domain.User{}, err
	}
	var hash string
	if p.Password != nil {
		if err := CheckPasswordComplexity(*p.Password); err != nil {
			return domain.User{}, err
		}
		var err error
		if hash, err = s.passwords.Hash(ctx, *p.Password); err != nil {
			return domain.User{}, fmt.Errorf("hash password: %w", err)
		}
	}
	var out domain.User
	err := s.inTx(ctx, func(tx Tx) error {
		u, err := getUser(ctx, tx, tenantID, idOrUPN)
		if err != nil {
			return err
		}
		if p.DisplayName != nil {
			if strings.TrimSpace(*p.DisplayName) == "" || len(*p.DisplayName) > 256 {
				return invalidf("Invalid value specified for property 'displayName' of resource 'User'.")
			}
			u.DisplayName = *p.DisplayName
		}
		if p.MailNickname != nil {
			if err := validateMailNickname(*p.MailNickname, "User"); err != nil {
				return err
			}
			u.MailNickname = *p.MailNickname
		}
		if p.UserPrincipalName != nil && *p.UserPrincipalName != u.UserPrincipalName {
			if err := s.checkUPN(ctx, tx, tenantID, *p.UserPrincipalName); err != nil {
				return err
			}
			u.UserPrincipalName = *p.UserPrincipalName
		}
		if p.AccountEnabled != nil {
			if !*p.AccountEnabled && u.AccountEnabled {
				last, err := lastGlobalAdminTx(ctx, tx, tenantID, u.ID)
				if err != nil {
					return err
				}
				if last {
					return invalidf("The tenant's last Global Administrator cannot be disabled.")
				}
			}
			u.AccountEnabled = *p.AccountEnabled
		}
		if p.Password != nil {
			u.PasswordHash = hash
			u.PasswordChangedAt = s.now().UTC()
		}
		if p.ForceChangePassword != nil {
			u.ForceChangePassword = *p.ForceChangePassword
		}
		if p.GivenName != nil {
			u.GivenName = *p.GivenName
		}
		if p.Surname != nil {
			u.Surname = *p.Surname
		}
		if p.Mail != nil {
			u.Mail = *p.Mail
		}
		out = u
		return tx.UpdateUser(ctx, u)
	})
	if err != nil {
		return domain.User{}, fmt.Errorf("update user %s: %w", idOrUPN, err)
	}
	return out, nil
}

// DeleteUser deletes a user with its group memberships, directory roles,
// ownerships, app role assignments and RBAC role assignments. The tenant's
// last Global Administrator cannot be deleted.
func (s *Service) DeleteUser(ctx context.Context, tenantID, idOrUPN string) (domain.User, Removed, error) {
	var rm Removed
	var u domain.User
	err := s.inTx(ctx, func(tx Tx) error {
		rm = Removed{}
		var err error
		if u, err = getUser(ctx, tx, tenantID, idOrUPN); err != nil {
			return err
		}
		last, err := lastGlobalAdminTx(ctx, tx, tenantID, u.ID)
		if err != nil {
			return err
		}
		if last {
			return invalidf("The tenant's last Global Administrator cannot be deleted.")
		}
		if err := s.removeMembershipsTx(ctx, tx, tenantID, u.ID, &rm); err != nil {
			return err
		}
		if err := s.removeGrantsTx(ctx, tx, tenantID, u.ID, &rm); err != nil {
			return err
		}
		return tx.DeleteUser(ctx, tenantID, u.ID)
	})
	if err != nil {
		return domain.User{}, Removed{}, fmt.Errorf("delete user %s: %w", idOrUPN, err)
	}
	return u, rm, nil
}

// lastGlobalAdminTx reports whether principalID holds the tenant's only
// Global Administrator assignment.
func lastGlobalAdminTx(ctx context.Context, tx Tx, tenantID, principalID string) (bool, error) {
	a, err := accessOf(ctx, tx, tenantID, principalID)
	if err != nil || !a.HasRole(domain.RoleGlobalAdministrator) {
		return false, err
	}
	all, err := roleAssignmentsTx(ctx, tx, tenantID, "")
	if err != nil {
		return false, err
	}
	n := 0
	for _, r := range all {
		if r.RoleTemplateID == domain.RoleGlobalAdministrator {
			n++
		}
	}
	return n <= 1, nil
}

// User sign-in failures, for the token service.
var (
	ErrUserDisabled = fault.New(fault.Forbidden, CodeUserDisabled, "user account is disabled")
)

// AuthenticateUser checks a user's password: store.ErrNotFound for an unknown
// UPN, ErrPasswordMismatch for a wrong password, ErrUserDisabled for a
// disabled account (reported only after the password matched).
func (s *Service) AuthenticateUser(ctx context.Context, tenantID, upn, password string) (domain.User, error) {
	u, err := s.store.GetUserByUPN(ctx, tenantID, upn)
	if err != nil {
		return domain.User{}, fmt.Errorf("load user %s: %w", upn, err)
	}
	if _, err := s.passwords.Verify(ctx, u.PasswordHash, password); err != nil {
		return domain.User{}, err
	}
	if !u.AccountEnabled {
		return domain.User{}, ErrUserDisabled
	}
	return u, nil
}

// errPasswordChangedMeanwhile: the password was reset while the user was
// choosing a new one; the sign-in must start again.
var errPasswordChangedMeanwhile = fault.New(fault.Invalid, CodePasswordChanged, "Your password was changed meanwhile. Sign in again.")

// ErrPasswordReused: a forced password change must choose a new password.
var ErrPasswordReused = fault.New(fault.Invalid, CodePasswordReused, "You can't reuse your current password. Please choose a different password.")

// ChangeExpiredPassword completes a forced password change at sign-in: the
// user (whose current password the caller has already verified) sets
// newPassword, which must pass the same complexity rule as an administrator's
// reset and differ from the current one. The flag is cleared and
// PasswordChangedAt moves to now, ending older sessions and refresh tokens.
func (s *Service) ChangeExpiredPassword(ctx context.Context, tenantID, userID, newPassword string) (domain.User, error) {
	if err := CheckPasswordComplexity(newPassword); err != nil {
		return domain.User{}, err
	}
	hash, err := s.passwords.Hash(ctx, newPassword)
	if err != nil {
		return domain.User{}, fmt.Errorf("hash password: %w", err)
	}
	// The reuse check hashes slowly, so it runs before the transaction (which
	// holds the store's writer); the transaction then makes sure the password
	// it compared against is still the current one.
	cur, err := s.store.GetUser(ctx, tenantID, userID)
	if err != nil {
		return domain.User{}, fmt.Errorf("change password of %s: %w", userID, err)
	}
	if _, err := s.passwords.Verify(ctx, cur.PasswordHash, newPassword); err == nil {
		return domain.User{}, ErrPasswordReused
	}
	var out domain.User
	err = s.inTx(ctx, func(tx Tx) error {
		u, err := tx.GetUser(ctx, tenantID, userID)
		if err != nil {
			return err
		}
		if !u.AccountEnabled {
			return ErrUserDisabled
		}
		if u.PasswordHash != cur.PasswordHash {
			return errPasswordChangedMeanwhile
		}
		u.PasswordHash = hash
		u.PasswordChangedAt = s.now().UTC()
		u.ForceChangePassword = false
		out = u
		return tx.UpdateUser(ctx, u)
	})
	if err != nil {
		return domain.User{}, fmt.Errorf("change password of %s: %w", userID, err)
	}
	return out, nil
}

// UpgradePasswordHash replaces the password hash of a user who just signed
// in with a hash of the same password made with the current parameters. It
// changes nothing when the hash changed meanwhile (a reset wins), and it
// leaves PasswordChangedAt alone: the password is the same, so sessions and
// refresh tokens stay valid.
func (s *Service) UpgradePasswordHash(ctx context.Context, tenantID, userID, oldHash, newHash string) error {
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(ctx, tenantID, userID)
		if err != nil {
			return err
		}
		if u.PasswordHash != oldHash {
			return nil
		}
		u.PasswordHash = newHash
		return tx.UpdateUser(ctx, u)
	})
	if err != nil {
		return fmt.Errorf("upgrade password hash of %s: %w", userID, err)
	}
	return nil
}

// SessionValid reports whether a session or refresh token issued to u at
// issuedAt still holds: the account is enabled and its password was not
// reset after the token was issued.
func SessionValid(u domain.User, issuedAt time.Time) bool {
	return u.AccountEnabled && !issuedAt.Before(u.PasswordChangedAt.Truncate(time.Second))
}
