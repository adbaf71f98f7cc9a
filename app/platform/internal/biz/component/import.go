package component

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Format is the kind of a census file.
type Format string

// File formats.
const (
	FormatCSV     Format = "csv"
	FormatGeoJSON Format = "geojson"
)

// FormatOf picks the format from a file name's extension.
func FormatOf(name string) (Format, bool) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".txt":
		return FormatCSV, true
	case ".geojson", ".json":
		return FormatGeoJSON, true
	}
	return "", false
}

// DefaultBatchSize is how many rows one transaction writes. Measured on
// PostgreSQL with two writers (BenchmarkImportComponents,
// CITYOPS_BENCH_IMPORT_BATCH): 2,000 rows a batch were the fastest,
// 1,000 and 5,000–10,000 within 10%; smaller batches pay the commit and
// the row-level security setting too often, larger ones hold locks longer,
// overlap less and redo more work after an interruption.
const DefaultBatchSize = 2000

// MaxReportedRejections bounds the rejections a report lists; Rejected
// counts them all and OnReject sees every one.
const MaxReportedRejections = 1000

// ImportInput is one file to import.
type ImportInput struct {
	TenantCode string
	// Name is the file's name as given; its extension picks the format
	// unless Format is set.
	Name   string
	Format Format
	// Source is read twice: once for the checksum and the encoding, once to
	// import. Size is its length in bytes (for the ETA).
	Source io.ReadSeeker
	Size   int64
	// CRS of coordinates in rows without a 坐标系 column: "" or WGS84, GCJ02.
	CRS       string
	BatchSize int
	// Progress is called after each committed batch and at the end.
	Progress func(Progress)
	// OnReject sees every rejected row (cityctl writes them to a file).
	OnReject func(Rejection)
}

// Progress is how far an import is.
type Progress struct {
	Rows       int64 // rows read so far (resumed ones included)
	Rejected   int64
	Bytes      int64 // bytes of the file read so far
	Size       int64
	Elapsed    time.Duration
	RowsPerSec float64
	// ETA extrapolates the byte rate of this run to the rest of the file.
	ETA  time.Duration
	Done bool
}

// Rejection is one row left out of an import.
type Rejection struct {
	Line   int64
	Column string // as the file names it, or ""
	Reason string
	ZH, EN string
}

// ImportReport is what an import did.
type ImportReport struct {
	Checksum   string
	Encoding   string
	Rows       int64
	Inserted   int64
	Updated    int64
	Unchanged  int64
	Rejected   int64
	Resumed    bool
	Rejections []Rejection
}

// rowSource is a CSV or GeoJSON reader.
type rowSource interface {
	next() (row, error)
}

// countingReader counts the bytes read from the file, for progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64 // read by the batch writer for the ETA
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Import imports a census file into the tenant:
//
//   - streaming: rows are read, checked and written a few batches at a
//     time (on PostgreSQL Config.ImportWriters transactions overlap, and
//     commit in file order), so memory does not grow with the file, except
//     for the set of ids seen (8 bytes an id, about 20 MB for 1.25 M rows)
//     that finds duplicates;
//   - resumable: the job of the file (keyed by its SHA-256) records the
//     rows committed; the same file after an interruption resumes there
//     (the rows before it are re-read and re-checked, not re-written, so the
//     report and the duplicate check still cover the whole file);
//   - idempotent: a row whose normalized attributes hash the same as the
//     stored one is not written; a changed one is updated;
//   - tolerant: a bad row is reported (line, column, reason) and skipped.
//
// A file that cannot be read as a whole (wrong columns, not GeoJSON) is
// refused with IMPORT_REJECTED before anything is written.
func (u *Usecase) Import(ctx context.Context, in ImportInput) (*ImportReport, error) {
	ctx, t, err := u.scope(ctx, in.TenantCode)
	if err != nil {
		return nil, err
	}
	format := in.Format
	if format == "" {
		var ok bool
		if format, ok = FormatOf(in.Name); !ok {
			return nil, ImportRejected("无法识别文件类型 "+in.Name+"（支持 .csv、.geojson）", "unknown file type "+in.Name+" (use .csv or .geojson)")
		}
	}
	defaultCRS, ok := ParseCRS(in.CRS)
	if !ok {
		return nil, ImportRejected("不支持的坐标系 "+in.CRS, "unsupported coordinate system "+in.CRS)
	}
	batchSize := in.BatchSize
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}

	sn := newSniffer()
	if _, err := io.Copy(sn, in.Source); err != nil {
		return nil, fmt.Errorf("import components: read: %w", err)
	}
	if _, err := in.Source.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("import components: rewind: %w", err)
	}
	size := in.Size
	if size <= 0 {
		size = sn.n
	}
	rep := &ImportReport{Checksum: sn.checksum(), Encoding: EncodingGeoJSON}
	counted := &countingReader{r: in.Source}
	var (
		src   rowSource
		names *names
	)
	if format == FormatCSV {
		rep.Encoding = sn.encoding()
		r, err := decode(counted, rep.Encoding)
		if err != nil {
			return nil, fmt.Errorf("import components: %w", err)
		}
		c, err := newCSVRows(r)
		if err != nil {
			return nil, err
		}
		src, names = c, &c.names
	} else {
		g, err := newGeoRows(counted)
		if err != nil {
			return nil, err
		}
		src, names = g, &g.names
	}

	job, err := u.startJob(ctx, t.ID, in.Name, rep.Checksum)
	if err != nil {
		return nil, err
	}
	rep.Resumed = job.Position > 0
	rep.Inserted, rep.Updated, rep.Unchanged = job.Inserted, job.Updated, job.Unchanged

	im := &importer{
		u: u, tenantID: t.ID, norm: normalizer{region: RegionOf(t), defaultCRS: defaultCRS},
		classes: map[string]bool{}, grids: map[string]bool{}, seen: make(map[uint64]int64),
		rep: rep, names: names, onReject: in.OnReject,
	}
	// The writer owns job from here on; the reader only needs where the
	// interrupted run stopped.
	resumeAt := job.Position
	w := &batchWriter{
		u: u, tenantID: t.ID, jobID: job.ID, job: job, rep: rep, start: time.Now(), size: size, bytes: &counted.n,
		progress: in.Progress,
	}
	w.likelyNew.Store(true)
	// Reading and checking rows overlaps with writing: writer goroutines
	// commit the batches in order (so the job's position only moves
	// forward over committed rows) while this one parses the next. With a
	// BatchLocker several batches are written at once; without, one.
	writers := 1
	if locker, ok := u.jobs.(BatchLocker); ok && u.cfg.ImportWriters > 1 {
		w.locker, writers = locker, u.cfg.ImportWriters
	}
	batches := make(chan writeBatch, writers)
	free := make(chan []*Component, writers+1) // every buffer fits: handing one back never blocks
	for range writers + 1 {
		free <- make([]*Component, 0, batchSize)
	}
	// A failed write stops the reader through rctx; the writers keep ctx,
	// so a batch in flight is not cut by that.
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() { w.run(ctx, batches, free, stop) })
	}

	readErr := func() error {
		defer close(batches)
		batch := <-free
		pending := 0 // rows read since the last batch, rejected ones included
		var (
			seq  int64
			prev *batchTurn
		)
		send := func(final bool) error {
			seq++
			turn := &batchTurn{locked: make(chan struct{}), done: make(chan struct{})}
			select {
			case batches <- writeBatch{rows: batch, position: rep.Rows, rejected: rep.Rejected, final: final, seq: seq, prev: prev, turn: turn}:
			case <-rctx.Done():
				return rctx.Err()
			}
			prev = turn
			pending = 0
			if !final {
				select {
				case batch = <-free:
				case <-rctx.Done():
					return rctx.Err()
				}
			}
			return nil
		}
		for {
			if err := rctx.Err(); err != nil {
				return err
			}
			r, err := src.next()
			if errors.Is(err, io.EOF) {
				return send(true)
			}
			if err != nil {
				return ImportRejected(fmt.Sprintf("第 %d 行之后无法继续读取：%v（此前的行已导入）", rep.Rows, err),
					fmt.Sprintf("cannot read on after row %d: %v (the rows before were imported)", rep.Rows, err))
			}
			rep.Rows++
			c, err := im.check(rctx, &r)
			if err != nil {
				return err
			}
			if rep.Rows <= resumeAt {
				continue // committed by the interrupted run
			}
			pending++
			if c != nil {
				batch = append(batch, c)
			}
			if len(batch) >= batchSize || pending >= 4*batchSize {
				if err := send(false); err != nil {
					return err
				}
			}
		}
	}()
	wg.Wait()
	writeErr := w.failure()
	switch {
	case writeErr != nil:
		return rep, fmt.Errorf("import components: %w", writeErr)
	case readErr != nil && ctx.Err() != nil:
		return rep, fmt.Errorf("import components: interrupted after row %d (committed %d; run again to resume): %w", rep.Rows, w.job.Position, readErr)
	case readErr != nil:
		return rep, readErr
	}
	return rep, nil
}

// writeBatch is a batch of checked rows and where the file stands after it.
type writeBatch struct {
	rows     []*Component
	position int64 // rows of the file read, up to and including this batch
	rejected int64 // rejected so far
	final    bool
	seq      int64      // 1, 2, … in file order
	prev     *batchTurn // of batch seq-1; nil for the first
	turn     *batchTurn
}

// batchTurn is how the transaction of a batch tells the next batch's
// where it stands.
type batchTurn struct {
	locked chan struct{} // closed once it holds its batch lock, or will not run
	done   chan struct{} // closed once it ended and its job counts are in the report
	err    error         // set before done is closed; nil when it committed
}

// errAfterFailure rolls back the batches after a failed one.
var errAfterFailure = errors.New("an earlier batch failed")

// batchWriter commits batches, each with the job's new position, in one
// transaction per batch (the row-level security scope is set once per
// transaction).
//
// With a locker, several writers run, and the transaction of batch k+1
// inserts its rows while batch k's is still at work — the database does
// most of an import's work, and so gets a core for each. It then saves
// the job and commits only after batch k committed: it begins once k's
// transaction holds the lock of batch k, and waits for that lock in the
// database, not in Go, so that the database's deadlock detector sees the
// wait (two imports writing the same ids could otherwise wait on each
// other unseen). Only then is the job saved, so positions and counts
// move in file order, as with one writer.
type batchWriter struct {
	u        *Usecase
	tenantID int
	jobID    int
	locker   BatchLocker   // nil: one writer
	job      *Job          // read and written in turn (after the previous batch's done)
	rep      *ImportReport // Inserted/Updated/Unchanged are the writers'
	start    time.Time
	size     int64
	bytes    *atomic.Int64 // bytes of the file the reader has read
	progress func(Progress)
	// likelyNew is Repo.Upsert's hint: whether the last batch written
	// inserted all its rows (true before the first).
	likelyNew atomic.Bool

	mu       sync.Mutex
	failed   error // the failure of the earliest failed batch
	failedAt int64
}

// run writes batches until the reader closes the channel. After a failure
// it stops the reader; the batches after the failed one only drain,
// handing buffers back so the reader is never stuck waiting for one.
func (w *batchWriter) run(ctx context.Context, batches <-chan writeBatch, free chan<- []*Component, stop func()) {
	for b := range batches {
		if err := w.write(ctx, b); err != nil {
			if !errors.Is(err, errAfterFailure) {
				w.mu.Lock()
				if w.failed == nil || b.seq < w.failedAt {
					w.failed, w.failedAt = err, b.seq
				}
				w.mu.Unlock()
			}
			stop()
		}
		if !b.final {
			free <- b.rows[:0]
		}
	}
}

// failure is the error that stopped the writers, or nil.
func (w *batchWriter) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

func (w *batchWriter) write(ctx context.Context, b writeBatch) (err error) {
	u := w.u
	locked := sync.OnceFunc(func() { close(b.turn.locked) })
	defer func() {
		locked()
		b.turn.err = err
		close(b.turn.done)
	}()
	if b.prev != nil {
		select {
		case <-b.prev.locked:
		case <-ctx.Done():
			return ctx.Err()
		}
		if w.failure() != nil {
			return errAfterFailure
		}
	}
	var j Job
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		if w.locker != nil {
			if err := w.locker.HoldBatch(ctx, w.jobID, b.seq); err != nil {
				return err
			}
		}
		locked()
		res := UpsertResult{}
		if len(b.rows) > 0 {
			var err error
			if res, err = u.repo.Upsert(ctx, w.tenantID, b.rows, w.likelyNew.Load()); err != nil {
				return err
			}
			// A first import inserts every row; once a batch finds stored
			// ones, the next probably will too.
			w.likelyNew.Store(res.Inserted == len(b.rows))
		}
		if b.prev != nil {
			if w.locker != nil {
				if err := w.locker.AwaitBatch(ctx, w.jobID, b.seq-1); err != nil {
					return err
				}
			}
			// Its transaction has ended; its writer is about to say how.
			select {
			case <-b.prev.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if b.prev.err != nil {
				return errAfterFailure
			}
		}
		j = *w.job
		j.Position = b.position
		j.Inserted += int64(res.Inserted)
		j.Updated += int64(res.Updated)
		j.Unchanged += int64(res.Unchanged)
		j.Rejected = b.rejected
		if b.final {
			j.Status = JobDone
		}
		return u.jobs.Save(ctx, &j)
	})
	if err != nil {
		return err
	}
	*w.job = j
	w.rep.Inserted, w.rep.Updated, w.rep.Unchanged = j.Inserted, j.Updated, j.Unchanged
	if j.Inserted+j.Updated > 0 {
		u.index.bump(w.tenantID)
	}
	if w.progress != nil {
		el := time.Since(w.start)
		// The reader is ahead by a few batches; close enough for an ETA.
		read := w.bytes.Load()
		p := Progress{Rows: b.position, Rejected: b.rejected, Bytes: read, Size: w.size, Elapsed: el, Done: b.final}
		if s := el.Seconds(); s > 0 {
			p.RowsPerSec = float64(b.position) / s
			if read > 0 && w.size > read && !b.final {
				p.ETA = time.Duration(float64(el) * float64(w.size-read) / float64(read))
			}
		}
		w.progress(p)
	}
	return nil
}

// startJob finds the job of the file: an unfinished one resumes at its
// position; a finished one starts over (every row should then come out
// unchanged, unless the stored components changed since); none is created.
func (u *Usecase) startJob(ctx context.Context, tenantID int, source, checksum string) (*Job, error) {
	var out *Job
	err := u.tx.InTx(ctx, func(ctx context.Context) error {
		j, err := u.jobs.Latest(ctx, tenantID, checksum)
		if err != nil {
			return err
		}
		if j != nil && j.Status != JobDone {
			out = j
			if out.Status != JobRunning {
				out.Status = JobRunning
				return u.jobs.Save(ctx, out)
			}
			return nil
		}
		if len(source) > 512 {
			source = source[len(source)-512:]
		}
		if source == "" {
			source = "upload"
		}
		out, err = u.jobs.Create(ctx, tenantID, &Job{Source: source, Checksum: checksum, Status: JobRunning})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("import components: job: %w", err)
	}
	return out, nil
}

// importer holds the state of one import run.
type importer struct {
	u        *Usecase
	tenantID int
	norm     normalizer
	classes  map[string]bool // class code → exists (the taxonomy has a few hundred)
	grids    map[string]bool
	seen     map[uint64]int64 // id (as a number) → line of its first row
	rep      *ImportReport
	names    *names
	onReject func(Rejection)
}

// check validates one row and returns its component, or nil when the row
// is rejected (and reported). An error is a failure of the class or grid
// look-up, which stops the import.
func (im *importer) check(ctx context.Context, r *row) (*Component, error) {
	c, p := im.norm.normalize(r)
	if p == nil {
		var err error
		if p, err = im.lookups(ctx, c); err != nil {
			return nil, err
		}
	}
	if p == nil {
		// Ids are 16–17 digits, so they fit a uint64 (< 1.8e19): the set of
		// ids costs 8 bytes an id rather than a string each.
		key, _ := strconv.ParseUint(c.ObjID, 10, 64)
		key = key<<1 | uint64(len(c.ObjID)&1) // a 16- and a 17-digit id never collide
		if first, dup := im.seen[key]; dup {
			p = problem("obj_id", ReasonDuplicateID, "标识码 %s 与第 %d 行重复", "id %s repeats line %d", c.ObjID, first)
		} else {
			im.seen[key] = r.line
		}
	}
	if p != nil {
		im.reject(r.line, p)
		return nil, nil
	}
	return c, nil
}

// lookups checks what needs the tenant's reference data, once per code.
func (im *importer) lookups(ctx context.Context, c *Component) (*Problem, error) {
	ok, seen := im.classes[c.ClassCode]
	if !seen {
		var err error
		if ok, err = im.u.classes.ClassExists(ctx, im.tenantID, "component", c.ClassCode); err != nil {
			return nil, fmt.Errorf("import components: class %s: %w", c.ClassCode, err)
		}
		im.classes[c.ClassCode] = ok
	}
	if !ok {
		return problem("class_code", ReasonClassNotFound, "本租户的部件分类中没有小类 %s", "the tenant's component taxonomy has no class %s", c.ClassCode), nil
	}
	if c.GridCode != "" && im.u.grids != nil {
		ok, seen := im.grids[c.GridCode]
		if !seen {
			var err error
			if ok, err = im.u.grids.GridExists(ctx, im.tenantID, c.GridCode); err != nil {
				return nil, fmt.Errorf("import components: grid %s: %w", c.GridCode, err)
			}
			// Grids are far more numerous than classes; keep the cache
			// bounded so a huge file does not grow it without end.
			if len(im.grids) > 100_000 {
				clear(im.grids)
			}
			im.grids[c.GridCode] = ok
		}
		if !ok {
			return problem("grid_code", ReasonGridNotFound, "单元网格 %s 不存在", "unit grid %s does not exist", c.GridCode), nil
		}
	}
	return nil, nil
}

func (im *importer) reject(line int64, p *Problem) {
	im.rep.Rejected++
	rj := Rejection{Line: line, Reason: p.Reason, ZH: p.ZH, EN: p.EN}
	if k, ok := columnByKey[p.Field]; ok {
		rj.Column = im.names[k]
	}
	if len(im.rep.Rejections) < MaxReportedRejections {
		im.rep.Rejections = append(im.rep.Rejections, rj)
	}
	if im.onReject != nil {
		im.onReject(rj)
	}
}

// columnByKey maps a canonical key to its column.
var columnByKey = func() map[string]int {
	m := make(map[string]int, numCols+1)
	for i, c := range columns {
		m[c.key] = i
	}
	return m
}()
