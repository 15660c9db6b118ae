package httpapi_test

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/apptest"
	"github.com/cvimprover/cvimprover/internal/store"
)

// TestDjangoHashUpgradedAtLogin: an account imported from the original
// keeps its pbkdf2_sha256 password, which is replaced by argon2id at the
// first successful login.
func TestDjangoHashUpgradedAtLogin(t *testing.T) {
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{})
	ctx := context.Background()
	key, err := pbkdf2.Key(sha256.New, "S3cure-Passw0rd!", []byte("seasalt123"), 1000, 32)
	if err != nil {
		t.Fatal(err)
	}
	hash := "pbkdf2_sha256$1000$seasalt123$" + base64.StdEncoding.EncodeToString(key)
	id, err := inst.App.DB.CreateUser(ctx, inst.App.DB.SQL, store.NewUser{Username: "legacy", Email: "legacy@example.com",
		PasswordHash: hash, DateJoined: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if r := inst.Do("POST", "/auth/login/", map[string]string{"username": "legacy", "password": "wrong"}); r.Status != 400 {
		t.Fatalf("wrong password: %d", r.Status)
	}
	if r := inst.Do("POST", "/auth/login/", map[string]string{"username": "Legacy", "password": "S3cure-Passw0rd!"}); r.Status != 200 {
		t.Fatalf("django hash login: %d %s", r.Status, r.Body)
	}
	u, err := inst.App.DB.UserByID(ctx, inst.App.DB.SQL, id)
	if err != nil || !strings.HasPrefix(u.Password, "argon2id$") || u.PlanName != "Free" {
		t.Fatalf("not upgraded: %q plan=%q %v", u.Password, u.PlanName, err)
	}
	if r := inst.Do("POST", "/auth/login/", map[string]string{"username": "legacy", "password": "S3cure-Passw0rd!"}); r.Status != 200 {
		t.Fatalf("login after upgrade: %d", r.Status)
	}
}
