package mail

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink is a minimal RFC 5321 server for tests: EHLO/HELO, STARTTLS,
// AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
type sink struct {
	ln net.Listener

	startTLS    *tls.Config // offer STARTTLS with this config
	implicitTLS bool        // ln is a TLS listener
	auth        bool        // advertise AUTH PLAIN LOGIN
	authMechs   string      // overrides the advertised mechanisms
	rcptReply   string      // reply to RCPT instead of 250, %s = address
	noGreeting  bool        // accept, then say nothing
	accepted    chan struct{}

	mu   sync.Mutex
	msgs []received
}

type received struct {
	From, To     string
	User, Pass   string
	AuthMech     string
	TLS          bool
	Data         string
	EHLO         string
	MailFromLine string
}

type sinkOption func(*sink)

func newSink(t *testing.T, opts ...sinkOption) *sink {
	t.Helper()
	s := &sink{accepted: make(chan struct{}, 16)}
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.implicitTLS {
		ln = tls.NewListener(ln, testCert.server)
	}
	s.ln = ln
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted <- struct{}{}
			wg.Go(func() { s.serve(t, c) })
		}
	})
	return s
}

func (s *sink) port() string {
	_, p, _ := net.SplitHostPort(s.ln.Addr().String())
	return p
}

func (s *sink) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *sink) serve(t *testing.T, c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if s.noGreeting {
		// Block until the client gives up and closes.
		_, _ = c.Read(make([]byte, 1))
		return
	}
	_, isTLS := c.(*tls.Conn)
	tp := textproto.NewConn(c)
	reply := func(format string, args ...any) { _ = tp.PrintfLine(format, args...) }
	var cur received
	cur.TLS = isTLS
	reply("220 sink.test ESMTP ready")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			cur.EHLO = arg
			ext := []string{"sink.test", "8BITMIME", "ENHANCEDSTATUSCODES"}
			if s.startTLS != nil && !cur.TLS {
				ext = append(ext, "STARTTLS")
			}
			if s.auth {
				mechs := "PLAIN LOGIN"
				if s.authMechs != "" {
					mechs = s.authMechs
				}
				ext = append(ext, "AUTH "+mechs)
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				reply("250%s%s", sep, e)
			}
		case "HELO":
			cur.EHLO = arg
			reply("250 sink.test")
		case "STARTTLS":
			if s.startTLS == nil || cur.TLS {
				reply("502 5.5.1 not offered")
				continue
			}
			reply("220 2.0.0 go ahead")
			tc := tls.Server(c, s.startTLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			c = tc
			tp = textproto.NewConn(c)
			cur = received{TLS: true}
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			cur.AuthMech = strings.ToUpper(mech)
			switch cur.AuthMech {
			case "PLAIN":
				if initial == "" {
					reply("334 ")
					if initial, err = tp.ReadLine(); err != nil {
						return
					}
				}
				raw, _ := base64.StdEncoding.DecodeString(initial)
				parts := strings.Split(string(raw), "\x00")
				if len(parts) != 3 {
					reply("501 5.5.2 malformed")
					continue
				}
				cur.User, cur.Pass = parts[1], parts[2]
			case "LOGIN":
				reply("334 %s", base64.StdEncoding.EncodeToString([]byte("Username:")))
				u, err := tp.ReadLine()
				if err != nil {
					return
				}
				reply("334 %s", base64.StdEncoding.EncodeToString([]byte("Password:")))
				p, err := tp.ReadLine()
				if err != nil {
					return
				}
				ub, _ := base64.StdEncoding.DecodeString(u)
				pb, _ := base64.StdEncoding.DecodeString(p)
				cur.User, cur.Pass = string(ub), string(pb)
			default:
				reply("504 5.5.4 unsupported mechanism")
				continue
			}
			reply("235 2.7.0 authenticated")
		case "MAIL":
			cur.MailFromLine = arg
			cur.From = angle(arg)
			reply("250 2.1.0 ok")
		case "RCPT":
			cur.To = angle(arg)
			if s.rcptReply != "" {
				reply(s.rcptReply, cur.To)
				continue
			}
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			cur.Data = string(data)
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			reply("250 2.0.0 queued")
		case "RSET":
			cur = received{TLS: cur.TLS, EHLO: cur.EHLO, User: cur.User, Pass: cur.Pass, AuthMech: cur.AuthMech}
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 unknown command")
		}
	}
}

func angle(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return ""
	}
	return arg[i+1 : j]
}

// testCert is a self-signed certificate for 127.0.0.1, and the client
// configuration that trusts it.
var testCert = func() struct{ server, client *tls.Config } {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sink.test"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return struct{ server, client *tls.Config }{
		server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		client: &tls.Config{ServerName: "127.0.0.1", RootCAs: pool, MinVersion: tls.VersionTLS12},
	}
}()
