package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

var (
	errWrongPassword = pdfcpu.ErrWrongPassword
	pdfcpuOnce       sync.Once
)

// decryptEmptyPassword removes encryption from a PDF whose user password is
// empty (an "owner password only" file: it opens without a prompt, but some
// readers refuse to copy its text). pdfcpu runs with tight resource limits; it
// is only reached for encrypted files the main parser cannot open itself.
func decryptEmptyPassword(ctx context.Context, data []byte) (out []byte, err error) {
	// pdfcpu would otherwise create a configuration directory in $HOME.
	pdfcpuOnce.Do(api.DisableConfigDir)
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("pdfcpu panic: %v", p)
		}
	}()
	conf := model.NewDefaultConfiguration()
	conf.UserPW, conf.OwnerPW = "", ""
	conf.ValidationMode = model.ValidationRelaxed
	conf.Limits = model.ResourceLimits{
		MaxStreamBytes:       MaxFileSize,
		MaxDecodeBytes:       16 << 20,
		MaxImagePixels:       16 << 20,
		MaxImageBytes:        16 << 20,
		MaxObjectCount:       maxObjects,
		MaxObjectStreamCount: maxObjStmN,
		MaxObjectStreamFirst: 1 << 20,
		MaxXRefEntries:       maxObjects,
		MaxRecursionDepth:    64,
	}
	var buf bytes.Buffer
	if err := api.Decrypt(ctxReadSeeker{ctx, bytes.NewReader(data)}, &buf, conf); err != nil {
		if errors.Is(err, pdfcpu.ErrWrongPassword) {
			return nil, errWrongPassword
		}
		return nil, err
	}
	if buf.Len() > 4*MaxFileSize {
		return nil, errors.New("decrypted file too large")
	}
	return buf.Bytes(), nil
}

type ctxReadSeeker struct {
	ctx context.Context
	r   *bytes.Reader
}

func (c ctxReadSeeker) Read(p []byte) (int, error) {
	if c.ctx.Err() != nil {
		return 0, errAborted
	}
	return c.r.Read(p)
}

func (c ctxReadSeeker) Seek(off int64, whence int) (int64, error) {
	return c.r.Seek(off, whence)
}

var _ io.ReadSeeker = ctxReadSeeker{}
