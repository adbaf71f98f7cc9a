package service

import (
	"context"
	"net"
	"time"

	khttp "github.com/go-kratos/kratos/v2/transport/http"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/types/known/timestamppb"

	identityv1 "github.com/cityops/cityops/api/identity/v1"
	biz "github.com/cityops/cityops/app/platform/internal/biz/identity"
)

// IdentityService serves cityops.identity.v1.IdentityService over HTTP and
// gRPC.
type IdentityService struct {
	identityv1.UnimplementedIdentityServiceServer
	uc *biz.Usecase
}

// NewIdentityService returns the identity API over its use cases.
func NewIdentityService(uc *biz.Usecase) *IdentityService { return &IdentityService{uc: uc} }

var (
	_ identityv1.IdentityServiceServer     = (*IdentityService)(nil)
	_ identityv1.IdentityServiceHTTPServer = (*IdentityService)(nil)
)

// peerInfo is the source address and user agent of the request, as the
// transport saw them. Proxies are not trusted here: behind a load balancer
// the server's middleware must put the real client address where the
// transport reports it.
func peerInfo(ctx context.Context) (addr, agent string) {
	if r, ok := khttp.RequestFromServerContext(ctx); ok {
		addr, agent = r.RemoteAddr, r.UserAgent()
	} else if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		addr = p.Addr.String()
	}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return addr, agent
}

func ts(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

func tokenResponse(p *biz.TokenPair, now time.Time) *identityv1.TokenResponse {
	return &identityv1.TokenResponse{
		AccessToken: p.AccessToken, TokenType: "Bearer",
		ExpiresIn:    int64(p.AccessExpiresAt.Sub(now).Round(time.Second).Seconds()),
		RefreshToken: p.RefreshToken, RefreshExpiresIn: int64(p.RefreshExpiresAt.Sub(now).Round(time.Second).Seconds()),
		User: &identityv1.UserSummary{
			Login: p.User.Login, DisplayName: p.User.DisplayName, TenantCode: p.Tenant.Code,
			DepartmentCode: p.User.DepartmentCode,
		},
	}
}

var statusToProto = map[biz.UserStatus]identityv1.UserStatus{
	biz.StatusActive:   identityv1.UserStatus_USER_STATUS_ACTIVE,
	biz.StatusDisabled: identityv1.UserStatus_USER_STATUS_DISABLED,
}

func userStatusFromProto(s identityv1.UserStatus) biz.UserStatus {
	for k, v := range statusToProto {
		if v == s {
			return k
		}
	}
	return ""
}

func userToProto(u *biz.User) *identityv1.User {
	return &identityv1.User{
		Login: u.Login, DisplayName: u.DisplayName, Phone: u.Phone, DepartmentCode: u.DepartmentCode,
		Status: statusToProto[u.Status], MustChangePassword: u.MustChangePassword, Roles: u.Roles,
		LockedUntil: ts(u.LockedUntil), LastLoginTime: ts(u.LastLoginAt),
		CreateTime: timestamppb.New(u.CreatedAt), UpdateTime: timestamppb.New(u.UpdatedAt),
	}
}

func apiKeyToProto(k *biz.APIKey) *identityv1.APIKey {
	return &identityv1.APIKey{
		KeyId: k.KeyID, Name: k.Name, Roles: k.Roles, ExpireTime: ts(k.ExpiresAt), LastUsedTime: ts(k.LastUsedAt),
		Revoked: k.RevokedAt != nil, RevokeTime: ts(k.RevokedAt), CreatedBy: k.CreatedBy,
		CreateTime: timestamppb.New(k.CreatedAt),
	}
}

// Login signs a user in.
func (s *IdentityService) Login(ctx context.Context, req *identityv1.LoginRequest) (*identityv1.TokenResponse, error) {
	addr, agent := peerInfo(ctx)
	p, err := s.uc.Login(ctx, biz.LoginInput{
		TenantCode: req.GetTenantCode(), Login: req.GetLogin(), Password: req.GetPassword(),
		ClientAddr: addr, UserAgent: agent,
	})
	if err != nil {
		return nil, err
	}
	return tokenResponse(p, s.uc.Now()), nil
}

// Refresh rotates a refresh token.
func (s *IdentityService) Refresh(ctx context.Context, req *identityv1.RefreshRequest) (*identityv1.TokenResponse, error) {
	addr, agent := peerInfo(ctx)
	p, err := s.uc.Refresh(ctx, biz.RefreshInput{RefreshToken: req.GetRefreshToken(), ClientAddr: addr, UserAgent: agent})
	if err != nil {
		return nil, err
	}
	return tokenResponse(p, s.uc.Now()), nil
}

// Logout revokes a refresh token's family.
func (s *IdentityService) Logout(ctx context.Context, req *identityv1.LogoutRequest) (*identityv1.LogoutResponse, error) {
	if err := s.uc.Logout(ctx, req.GetRefreshToken()); err != nil {
		return nil, err
	}
	return &identityv1.LogoutResponse{}, nil
}

// ChangePassword sets a new password given the current one.
func (s *IdentityService) ChangePassword(ctx context.Context, req *identityv1.ChangePasswordRequest) (*identityv1.ChangePasswordResponse, error) {
	addr, _ := peerInfo(ctx)
	err := s.uc.ChangePassword(ctx, biz.ChangePasswordInput{
		TenantCode: req.GetTenantCode(), Login: req.GetLogin(), OldPassword: req.GetOldPassword(),
		NewPassword: req.GetNewPassword(), ClientAddr: addr,
	})
	if err != nil {
		return nil, err
	}
	return &identityv1.ChangePasswordResponse{}, nil
}

// WhoAmI describes the caller.
func (s *IdentityService) WhoAmI(ctx context.Context, _ *identityv1.WhoAmIRequest) (*identityv1.WhoAmIResponse, error) {
	me, err := s.uc.WhoAmI(ctx)
	if err != nil {
		return nil, err
	}
	return &identityv1.WhoAmIResponse{
		Subject: me.Subject, Kind: string(me.Kind), Name: me.Name, DisplayName: me.DisplayName,
		TenantCode: me.TenantCode, TenantPath: me.TenantPath, Roles: me.Roles, DepartmentCode: me.DepartmentCode,
		KeyId: me.KeyID,
	}, nil
}

// CreateUser adds a user to the tenant.
func (s *IdentityService) CreateUser(ctx context.Context, req *identityv1.CreateUserRequest) (*identityv1.CreateUserResponse, error) {
	u, generated, err := s.uc.CreateUser(ctx, req.GetTenantCode(), biz.CreateUserInput{
		Login: req.GetLogin(), DisplayName: req.GetDisplayName(), Phone: req.GetPhone(),
		DepartmentCode: req.GetDepartmentCode(), Roles: req.GetRoles(), Password: req.InitialPassword,
	})
	if err != nil {
		return nil, err
	}
	return &identityv1.CreateUserResponse{User: userToProto(u), InitialPassword: generated}, nil
}

// GetUser returns one user.
func (s *IdentityService) GetUser(ctx context.Context, req *identityv1.GetUserRequest) (*identityv1.User, error) {
	u, err := s.uc.GetUser(ctx, req.GetTenantCode(), req.GetLogin())
	if err != nil {
		return nil, err
	}
	return userToProto(u), nil
}

// ListUsers returns one page of users.
func (s *IdentityService) ListUsers(ctx context.Context, req *identityv1.ListUsersRequest) (*identityv1.ListUsersResponse, error) {
	rows, next, err := s.uc.ListUsers(ctx, req.GetTenantCode(), biz.ListUsersInput{
		Status: userStatusFromProto(req.GetStatus()), DepartmentCode: req.GetDepartmentCode(),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	out := &identityv1.ListUsersResponse{NextPageToken: next, Users: make([]*identityv1.User, 0, len(rows))}
	for _, u := range rows {
		out.Users = append(out.Users, userToProto(u))
	}
	return out, nil
}

// UpdateUser changes display name, phone or department.
func (s *IdentityService) UpdateUser(ctx context.Context, req *identityv1.UpdateUserRequest) (*identityv1.User, error) {
	u, err := s.uc.UpdateUser(ctx, req.GetTenantCode(), req.GetLogin(), biz.UserChanges{
		DisplayName: req.DisplayName, Phone: req.Phone, DepartmentCode: req.DepartmentCode,
	})
	if err != nil {
		return nil, err
	}
	return userToProto(u), nil
}

// SetUserStatus enables or disables a user.
func (s *IdentityService) SetUserStatus(ctx context.Context, req *identityv1.SetUserStatusRequest) (*identityv1.User, error) {
	u, err := s.uc.SetUserStatus(ctx, req.GetTenantCode(), req.GetLogin(), userStatusFromProto(req.GetStatus()))
	if err != nil {
		return nil, err
	}
	return userToProto(u), nil
}

// ResetPassword sets a temporary password.
func (s *IdentityService) ResetPassword(ctx context.Context, req *identityv1.ResetPasswordRequest) (*identityv1.ResetPasswordResponse, error) {
	temp, err := s.uc.ResetPassword(ctx, req.GetTenantCode(), req.GetLogin())
	if err != nil {
		return nil, err
	}
	return &identityv1.ResetPasswordResponse{TemporaryPassword: temp}, nil
}

// SetUserRoles replaces a user's roles.
func (s *IdentityService) SetUserRoles(ctx context.Context, req *identityv1.SetUserRolesRequest) (*identityv1.User, error) {
	u, err := s.uc.SetUserRoles(ctx, req.GetTenantCode(), req.GetLogin(), req.GetRoles())
	if err != nil {
		return nil, err
	}
	return userToProto(u), nil
}

// CreateAPIKey issues a machine key.
func (s *IdentityService) CreateAPIKey(ctx context.Context, req *identityv1.CreateAPIKeyRequest) (*identityv1.CreateAPIKeyResponse, error) {
	in := biz.CreateAPIKeyInput{Name: req.GetName(), Roles: req.GetRoles()}
	if req.ExpireTime != nil {
		t := req.GetExpireTime().AsTime()
		in.ExpiresAt = &t
	}
	k, full, err := s.uc.CreateAPIKey(ctx, req.GetTenantCode(), in)
	if err != nil {
		return nil, err
	}
	return &identityv1.CreateAPIKeyResponse{ApiKey: apiKeyToProto(k), Key: full}, nil
}

// ListAPIKeys lists the tenant's keys.
func (s *IdentityService) ListAPIKeys(ctx context.Context, req *identityv1.ListAPIKeysRequest) (*identityv1.ListAPIKeysResponse, error) {
	keys, err := s.uc.ListAPIKeys(ctx, req.GetTenantCode(), req.GetIncludeRevoked())
	if err != nil {
		return nil, err
	}
	out := &identityv1.ListAPIKeysResponse{ApiKeys: make([]*identityv1.APIKey, 0, len(keys))}
	for _, k := range keys {
		out.ApiKeys = append(out.ApiKeys, apiKeyToProto(k))
	}
	return out, nil
}

// RevokeAPIKey revokes a key.
func (s *IdentityService) RevokeAPIKey(ctx context.Context, req *identityv1.RevokeAPIKeyRequest) (*identityv1.APIKey, error) {
	k, err := s.uc.RevokeAPIKey(ctx, req.GetTenantCode(), req.GetKeyId())
	if err != nil {
		return nil, err
	}
	return apiKeyToProto(k), nil
}
