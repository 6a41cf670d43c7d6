;; The line scan of `--logs` (src/runs/logs.ts) with WebAssembly SIMD: 32 bytes at a time, 16 where a line ends.
;;
;; scan(start, end, out, prev, prevCap, maxLine) walks memory[start, end), whole lines each ending in "\n",
;; counts the lines, and writes one record per line that contains `Running job` (APScheduler's executor
;; message) to `out`, 40 bytes each:
;;   i32 index  lines before this one in the scanned region (0 for the first)
;;   i32 start  offset of the line
;;   i32 end    offset of its "\n"
;;   i32 at     offset of its first `Running job`
;;   i32 flags  SAME_MESSAGE 1: the message (`at` to the end of the line, trailing CR and spaces removed) is
;;                byte for byte the message of the record before (this call or an earlier one): the copies
;;                of one run that several workers log one after the other, which need no parsing again
;;              PLAIN_PREFIX 2: the prefix (start to `at`) is one parseRunView takes as it is (plainPrefix)
;;              SHAPE 4: the message has the shape parseRunView checks, `Running job "JOB_TEXT, STATUS)"
;;                (scheduled at TIME)` with STATUS `next run at: ...`, `paused` or `pending`; q, s0 and s1
;;                are set
;;              SAME_KEY 8: with SHAPE, JOB_TEXT is byte for byte that of the SHAPE record before
;;              TIME 16: with SHAPE, TIME is `YYYY-MM-DD HH:MM:SS[.ffffff]+HH:MM` (space or T, years
;;                1900-2199: the form APScheduler writes) and `us` holds it in microseconds since the epoch,
;;                the value parseScheduledAt gives
;;   i32 q      offset from `at` of the comma that ends JOB_TEXT (JOB_TEXT starts at at + 13)
;;   i32 s0     offset from `at` of TIME
;;   i32 s1     offset from `at` of the end of TIME
;;   f64 us
;; Lines of maxLine bytes or more (without the "\n") get no record; they are counted in `longLines`.
;; Returns the number of records; `lines` holds the number of lines, `lastEnd` the offset after the last
;; "\n", `highBytes` whether a byte >= 0x80 was seen (0: the region is ASCII). The previous message and job text are kept in memory[prev, prev + 2 * prevCap) (longer ones are
;; never "same").
;;
;; The caller keeps at least 32 bytes of memory after `end` (reads go up to 16 bytes past it; what they
;; read there is masked off), and room for a record per 12 input bytes ("Running job\n") at `out`.
;;
;; Anything this file decides is also decided by src/runs/aplog.ts (the unit tests hold the two together):
;; a line this scan does not mark goes to the parsers there.
;;
;; Source of src/runs/linescan-wasm.ts: `npm run build:wasm` after a change (a unit test compares them).
(module
  (memory (export "memory") 1)
  (global $lines (export "lines") (mut i32) (i32.const 0))
  (global $longLines (export "longLines") (mut i32) (i32.const 0))
  (global $lastEnd (export "lastEnd") (mut i32) (i32.const 0))
  ;; 1 when the last scan met a byte >= 0x80 (it may have met one up to 16 bytes past `end`): 0 means the
  ;; region is ASCII, so valid UTF-8 without a check
  (global $highBytes (export "highBytes") (mut i32) (i32.const 0))
  ;; length of the message kept at `prev`, -1 when none
  (global $prevLen (mut i32) (i32.const -1))
  ;; length of the job text kept at `prev + prevCap`, -1 when none
  (global $prevKeyLen (mut i32) (i32.const -1))
  ;; the fields of the last record, for the next when its message is the same
  (global $lastFlags (mut i32) (i32.const 0))
  (global $lastQ (mut i32) (i32.const 0))
  (global $lastS0 (mut i32) (i32.const 0))
  (global $lastS1 (mut i32) (i32.const 0))
  (global $lastUs (mut f64) (f64.const 0))

  ;; Whether memory[q, q + 11) is `Running job` and ends by `end`.
  (func $isRunning (param $q i32) (param $end i32) (result i32)
    (if (i32.gt_u (i32.add (local.get $q) (i32.const 11)) (local.get $end))
      (then (return (i32.const 0))))
    ;; "Running " and " job", little-endian
    (if (i64.ne (i64.load (local.get $q)) (i64.const 0x20676e696e6e7552))
      (then (return (i32.const 0))))
    (i32.eq (i32.load offset=7 (local.get $q)) (i32.const 0x626f6a20)))

  ;; c is an ASCII letter or digit
  (func $isAlnum (param $c i32) (result i32)
    (i32.or
      (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
      (i32.lt_u (i32.sub (i32.or (local.get $c) (i32.const 32)) (i32.const 97)) (i32.const 26))))

  ;; plainPrefix of src/runs/aplog.ts on memory[ls, at): no JSON or indented line, no kubectl `[pod/` or
  ;; compose `NAME  | ` prefix (a unit test holds the two to the same answers).
  (func $plainPrefix (param $ls i32) (param $at i32) (result i32)
    (local $c i32) (local $i i32)
    (if (i32.ge_u (local.get $ls) (local.get $at)) (then (return (i32.const 1))))
    (local.set $c (i32.load8_u (local.get $ls)))
    (if (i32.or (i32.eq (local.get $c) (i32.const 123))
          (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9))))
      (then (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 91))
      (then (return (i32.ne (i32.load8_u offset=1 (local.get $ls)) (i32.const 112)))))
    (if (i32.eqz (call $isAlnum (local.get $c))) (then (return (i32.const 1))))
    (local.set $i (i32.add (local.get $ls) (i32.const 1)))
    (block $word
      (loop $chars
        (br_if $word (i32.ge_u (local.get $i) (local.get $at)))
        (local.set $c (i32.load8_u (local.get $i)))
        (br_if $word
          (i32.eqz
            (i32.or (call $isAlnum (local.get $c))
              (i32.or (i32.eq (local.get $c) (i32.const 95))
                (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.eq (local.get $c) (i32.const 46)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $chars)))
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 32)) (then (return (i32.const 1))))
    (block $spaces
      (loop $blanks
        (br_if $spaces (i32.ge_u (local.get $i) (local.get $at)))
        (br_if $spaces (i32.ne (i32.load8_u (local.get $i)) (i32.const 32)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $blanks)))
    (i32.ne (i32.load8_u (local.get $i)) (i32.const 124)))

  ;; Whether memory[a, a + n) equals memory[b, b + n).
  (func $equal (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $wide
      (loop $blocks
        (br_if $wide (i32.lt_u (local.get $n) (i32.const 16)))
        (if (i32.eqz (i8x16.all_true (i8x16.eq (v128.load (local.get $a)) (v128.load (local.get $b)))))
          (then (return (i32.const 0))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $n (i32.sub (local.get $n) (i32.const 16)))
        (br $blocks)))
    (block $narrow
      (loop $bytes
        (br_if $narrow (i32.eqz (local.get $n)))
        (if (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b)))
          (then (return (i32.const 0))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $bytes)))
    (i32.const 1))

  ;; The value of the two ASCII digits at p, or -1.
  (func $d2 (param $p i32) (result i32)
    (local $a i32) (local $b i32)
    (local.set $a (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
    (local.set $b (i32.sub (i32.load8_u offset=1 (local.get $p)) (i32.const 48)))
    (if (result i32) (i32.or (i32.gt_u (local.get $a) (i32.const 9)) (i32.gt_u (local.get $b) (i32.const 9)))
      (then (i32.const -1))
      (else (i32.add (i32.mul (local.get $a) (i32.const 10)) (local.get $b)))))

  ;; The value of the 2n ASCII digits at p (n = 2 or 3), or -1.
  (func $digits (param $p i32) (param $n i32) (result i32)
    (local $v i32) (local $d i32)
    (block $bad
      (loop $pairs
        (local.set $d (call $d2 (local.get $p)))
        (br_if $bad (i32.lt_s (local.get $d) (i32.const 0)))
        (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 100)) (local.get $d)))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_if $pairs (local.get $n)))
      (return (local.get $v)))
    (i32.const -1))

  ;; memory[s0, s1) as `YYYY-MM-DD HH:MM:SS[.ffffff]+HH:MM` (or T for the space), years 1900-2199, in
  ;; microseconds since the epoch; NaN when it is not exactly that (the caller then parses it itself).
  (func $time (param $s0 i32) (param $s1 i32) (result f64)
    (local $len i32) (local $y i32) (local $mo i32) (local $d i32) (local $h i32) (local $mi i32)
    (local $sec i32) (local $frac i32) (local $o i32) (local $oh i32) (local $om i32) (local $sign i32)
    (local $c i32) (local $dim i32) (local $era i32) (local $yoe i32) (local $doy i32) (local $days i32)
    (local.set $len (i32.sub (local.get $s1) (local.get $s0)))
    (if (i32.eq (local.get $len) (i32.const 25))
      (then (local.set $o (i32.const 19)))
      (else
        (if (i32.ne (local.get $len) (i32.const 32)) (then (return (f64.const nan))))
        (if (i32.ne (i32.load8_u offset=19 (local.get $s0)) (i32.const 46)) (then (return (f64.const nan))))
        (local.set $frac (call $digits (i32.add (local.get $s0) (i32.const 20)) (i32.const 3)))
        (if (i32.lt_s (local.get $frac) (i32.const 0)) (then (return (f64.const nan))))
        (local.set $o (i32.const 26))))
    (local.set $y (call $digits (local.get $s0) (i32.const 2))) ;; 4 digits
    (local.set $mo (call $d2 (i32.add (local.get $s0) (i32.const 5))))
    (local.set $d (call $d2 (i32.add (local.get $s0) (i32.const 8))))
    (local.set $h (call $d2 (i32.add (local.get $s0) (i32.const 11))))
    (local.set $mi (call $d2 (i32.add (local.get $s0) (i32.const 14))))
    (local.set $sec (call $d2 (i32.add (local.get $s0) (i32.const 17))))
    (local.set $c (i32.load8_u offset=10 (local.get $s0)))
    (local.set $sign (i32.load8_u (i32.add (local.get $s0) (local.get $o))))
    (local.set $oh (call $d2 (i32.add (i32.add (local.get $s0) (local.get $o)) (i32.const 1))))
    (local.set $om (call $d2 (i32.add (i32.add (local.get $s0) (local.get $o)) (i32.const 4))))
    (if (i32.ge_u (i32.sub (local.get $y) (i32.const 1900)) (i32.const 300)) (then (return (f64.const nan))))
    (if (i32.or
          (i32.or
            (i32.or
              (i32.or (i32.gt_u (i32.sub (local.get $mo) (i32.const 1)) (i32.const 11))
                      (i32.lt_s (local.get $d) (i32.const 1)))
              (i32.or (i32.gt_u (local.get $h) (i32.const 23)) (i32.gt_u (local.get $mi) (i32.const 59))))
            (i32.or
              (i32.or (i32.gt_u (local.get $sec) (i32.const 59)) (i32.gt_u (local.get $oh) (i32.const 23)))
              (i32.or (i32.gt_u (local.get $om) (i32.const 59))
                      (i32.and (i32.ne (local.get $c) (i32.const 32)) (i32.ne (local.get $c) (i32.const 84))))))
          (i32.or
            (i32.or
              (i32.or (i32.ne (i32.load8_u offset=4 (local.get $s0)) (i32.const 45))
                      (i32.ne (i32.load8_u offset=7 (local.get $s0)) (i32.const 45)))
              (i32.or (i32.ne (i32.load8_u offset=13 (local.get $s0)) (i32.const 58))
                      (i32.ne (i32.load8_u offset=16 (local.get $s0)) (i32.const 58))))
            (i32.or
              (i32.and (i32.ne (local.get $sign) (i32.const 43)) (i32.ne (local.get $sign) (i32.const 45)))
              (i32.ne (i32.load8_u offset=3 (i32.add (local.get $s0) (local.get $o))) (i32.const 58)))))
      (then (return (f64.const nan))))
    ;; days in the month (the digits are checked: $h etc. are not -1 here, -1 is > 23 unsigned)
    (local.set $dim
      (if (result i32) (i32.eq (local.get $mo) (i32.const 2))
        (then
          (if (result i32)
              (i32.and (i32.eqz (i32.rem_u (local.get $y) (i32.const 4)))
                (i32.or (i32.ne (i32.rem_u (local.get $y) (i32.const 100)) (i32.const 0))
                        (i32.eqz (i32.rem_u (local.get $y) (i32.const 400)))))
            (then (i32.const 29)) (else (i32.const 28))))
        (else
          (i32.sub (i32.const 31)
            (i32.and (i32.shr_u (i32.const 0x0a50) (local.get $mo)) (i32.const 1))))))
    (if (i32.gt_s (local.get $d) (local.get $dim)) (then (return (f64.const nan))))
    ;; days since 1970-01-01 (H. Hinnant's days_from_civil; y >= 1900 keeps everything positive)
    (if (i32.le_u (local.get $mo) (i32.const 2)) (then (local.set $y (i32.sub (local.get $y) (i32.const 1)))))
    (local.set $era (i32.div_u (local.get $y) (i32.const 400)))
    (local.set $yoe (i32.sub (local.get $y) (i32.mul (local.get $era) (i32.const 400))))
    (local.set $doy
      (i32.add
        (i32.div_u
          (i32.add
            (i32.mul (i32.const 153)
              (i32.add (local.get $mo) (if (result i32) (i32.gt_u (local.get $mo) (i32.const 2))
                (then (i32.const -3)) (else (i32.const 9)))))
            (i32.const 2))
          (i32.const 5))
        (i32.sub (local.get $d) (i32.const 1))))
    (local.set $days
      (i32.sub
        (i32.add (i32.mul (local.get $era) (i32.const 146097))
          (i32.add
            (i32.sub
              (i32.add (i32.mul (local.get $yoe) (i32.const 365)) (i32.div_u (local.get $yoe) (i32.const 4)))
              (i32.div_u (local.get $yoe) (i32.const 100)))
            (local.get $doy)))
        (i32.const 719468)))
    (f64.convert_i64_s
      (i64.add
        (i64.mul
          (i64.sub
            (i64.add
              (i64.mul (i64.extend_i32_s (local.get $days)) (i64.const 86400))
              (i64.extend_i32_s
                (i32.add (i32.mul (local.get $h) (i32.const 3600))
                  (i32.add (i32.mul (local.get $mi) (i32.const 60)) (local.get $sec)))))
            (i64.extend_i32_s
              (i32.mul
                (i32.add (i32.mul (local.get $oh) (i32.const 3600)) (i32.mul (local.get $om) (i32.const 60)))
                (if (result i32) (i32.eq (local.get $sign) (i32.const 45)) (then (i32.const -1)) (else (i32.const 1))))))
          (i64.const 1000000))
        (i64.extend_i32_s (local.get $frac)))))

  ;; The last position p in [lo, hi] with memory[p] = c, or -1.
  (func $lastByte (param $c i32) (param $hi i32) (param $lo i32) (result i32)
    (block $none
      (loop $back
        (br_if $none (i32.lt_s (local.get $hi) (local.get $lo)))
        (if (i32.eq (i32.load8_u (local.get $hi)) (local.get $c)) (then (return (local.get $hi))))
        (local.set $hi (i32.sub (local.get $hi) (i32.const 1)))
        (br $back)))
    (i32.const -1))

  ;; Writes the record of line [ls, le) with `Running job` at `at` to `rec`.
  (func $record (param $rec i32) (param $index i32) (param $ls i32) (param $le i32) (param $at i32)
      (param $prev i32) (param $prevCap i32)
    (local $e i32) (local $c i32) (local $m i32) (local $flags i32) (local $open i32) (local $close i32)
    (local $j0 i32) (local $q i32) (local $t i32) (local $lo i32)
    (local.set $e (local.get $le))
    (block $trimmed
      (loop $back
        (br_if $trimmed (i32.le_u (local.get $e) (local.get $at)))
        (local.set $c (i32.load8_u (i32.sub (local.get $e) (i32.const 1))))
        (br_if $trimmed (i32.and (i32.ne (local.get $c) (i32.const 13)) (i32.ne (local.get $c) (i32.const 32))))
        (local.set $e (i32.sub (local.get $e) (i32.const 1)))
        (br $back)))
    (local.set $m (i32.sub (local.get $e) (local.get $at)))
    (i32.store (local.get $rec) (local.get $index))
    (i32.store offset=4 (local.get $rec) (local.get $ls))
    (i32.store offset=8 (local.get $rec) (local.get $le))
    (i32.store offset=12 (local.get $rec) (local.get $at))
    (local.set $flags (i32.shl (call $plainPrefix (local.get $ls) (local.get $at)) (i32.const 1)))
    (block $recorded
      (if (i32.eq (local.get $m) (global.get $prevLen))
        (then
          (if (call $equal (local.get $at) (local.get $prev) (local.get $m))
            (then
              ;; the same message: the same shape, job text and time as the record before
              (local.set $flags
                (i32.or (i32.or (local.get $flags) (i32.const 1))
                  (i32.or (global.get $lastFlags)
                    (i32.shl (i32.and (global.get $lastFlags) (i32.const 4)) (i32.const 1)))))
              (br $recorded)))))
      (if (i32.le_u (local.get $m) (local.get $prevCap))
        (then
          (memory.copy (local.get $prev) (local.get $at) (local.get $m))
          (global.set $prevLen (local.get $m)))
        (else (global.set $prevLen (i32.const -1))))
      (global.set $lastFlags (i32.const 0))
      ;; parseRunView's checks: `Running job "` ... `, STATUS)" (scheduled at TIME)`
      (br_if $recorded (i32.ne (i32.load8_u (i32.sub (local.get $e) (i32.const 1))) (i32.const 41)))
      (br_if $recorded (i32.ne (i32.load16_u offset=11 (local.get $at)) (i32.const 0x2220)))
      (local.set $lo (i32.sub (local.get $e) (i32.const 50)))
      (if (i32.lt_s (local.get $lo) (local.get $at)) (then (local.set $lo (local.get $at))))
      (local.set $open (call $lastByte (i32.const 40) (i32.sub (local.get $e) (i32.const 2)) (local.get $lo)))
      (local.set $t (i32.sub (local.get $open) (i32.const 2)))
      (local.set $j0 (i32.add (local.get $at) (i32.const 13)))
      (br_if $recorded (i32.or (i32.lt_s (local.get $open) (i32.const 0)) (i32.lt_s (local.get $t) (local.get $j0))))
      ;; `" (scheduled at `
      (br_if $recorded (i64.ne (i64.load (local.get $t)) (i64.const 0x6465686373282022)))
      (br_if $recorded (i64.ne (i64.load offset=8 (local.get $t)) (i64.const 0x2074612064656c75)))
      (local.set $close (i32.sub (local.get $t) (i32.const 1)))
      (br_if $recorded (i32.le_s (local.get $close) (local.get $j0)))
      (br_if $recorded (i32.ne (i32.load8_u (local.get $close)) (i32.const 41)))
      (local.set $q
        (call $lastByte (i32.const 44) (i32.sub (local.get $close) (i32.const 1)) (i32.add (local.get $j0) (i32.const 1))))
      (br_if $recorded (i32.lt_s (local.get $q) (i32.const 0)))
      ;; `, next run at: `, `, paused)` or `, pending)`
      (if (i32.eqz
            (i32.or
              (i32.and
                (i64.eq (i64.load (local.get $q)) (i64.const 0x72207478656e202c))
                (i64.eq (i64.load offset=7 (local.get $q)) (i64.const 0x203a7461206e7572)))
              (i32.or
                (i32.and
                  (i64.eq (i64.load (local.get $q)) (i64.const 0x646573756170202c))
                  (i32.eq (i32.load8_u offset=8 (local.get $q)) (i32.const 41)))
                (i32.and
                  (i64.eq (i64.load (local.get $q)) (i64.const 0x6e69646e6570202c))
                  (i32.eq (i32.load16_u offset=8 (local.get $q)) (i32.const 0x2967))))))
        (then (br $recorded)))
      (local.set $flags (i32.or (local.get $flags) (i32.const 4)))
      (global.set $lastQ (i32.sub (local.get $q) (local.get $at)))
      (global.set $lastS0 (i32.sub (i32.add (local.get $open) (i32.const 14)) (local.get $at)))
      (global.set $lastS1 (i32.sub (i32.sub (local.get $e) (i32.const 1)) (local.get $at)))
      ;; the job text, against the one before
      (local.set $m (i32.sub (local.get $q) (local.get $j0)))
      (if (i32.eq (local.get $m) (global.get $prevKeyLen))
        (then
          (if (call $equal (local.get $j0) (i32.add (local.get $prev) (local.get $prevCap)) (local.get $m))
            (then (local.set $flags (i32.or (local.get $flags) (i32.const 8)))))))
      (if (i32.eqz (i32.and (local.get $flags) (i32.const 8)))
        (then
          (if (i32.le_u (local.get $m) (local.get $prevCap))
            (then
              (memory.copy (i32.add (local.get $prev) (local.get $prevCap)) (local.get $j0) (local.get $m))
              (global.set $prevKeyLen (local.get $m)))
            (else (global.set $prevKeyLen (i32.const -1))))))
      (global.set $lastUs
        (call $time (i32.add (local.get $open) (i32.const 14)) (i32.sub (local.get $e) (i32.const 1))))
      (if (f64.eq (global.get $lastUs) (global.get $lastUs))
        (then (local.set $flags (i32.or (local.get $flags) (i32.const 16)))))
      (global.set $lastFlags (i32.and (local.get $flags) (i32.const 20))))
    (i32.store offset=16 (local.get $rec) (local.get $flags))
    (i32.store offset=20 (local.get $rec) (global.get $lastQ))
    (i32.store offset=24 (local.get $rec) (global.get $lastS0))
    (i32.store offset=28 (local.get $rec) (global.get $lastS1))
    (f64.store offset=32 (local.get $rec) (global.get $lastUs)))

  (func (export "scan") (param $start i32) (param $end i32) (param $out i32) (param $prev i32)
      (param $prevCap i32) (param $maxLine i32) (result i32)
    (local $p i32) (local $ls i32) (local $run i32) (local $mask i32) (local $q i32) (local $n i32)
    (local $lines i32) (local $long i32) (local $v v128) (local $w v128) (local $high v128)
    (local.set $p (local.get $start))
    (local.set $ls (local.get $start))
    (local.set $run (i32.const -1))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; most stretches of 32 bytes hold neither "\n" nor "R": one test skips them
        (if (i32.le_u (i32.add (local.get $p) (i32.const 32)) (local.get $end))
          (then
            (local.set $w (v128.load (local.get $p)))
            (local.set $v (v128.load offset=16 (local.get $p)))
            (local.set $high (v128.or (local.get $high) (v128.or (local.get $w) (local.get $v))))
            (if (i32.eqz
                  (v128.any_true
                    (v128.or
                      (v128.or
                        (i8x16.eq (local.get $w) (i8x16.splat (i32.const 10)))
                        (i8x16.eq (local.get $w) (i8x16.splat (i32.const 82))))
                      (v128.or
                        (i8x16.eq (local.get $v) (i8x16.splat (i32.const 10)))
                        (i8x16.eq (local.get $v) (i8x16.splat (i32.const 82)))))))
              (then
                (local.set $p (i32.add (local.get $p) (i32.const 32)))
                (br $blocks)))))
        (local.set $v (v128.load (local.get $p)))
        (local.set $high (v128.or (local.get $high) (local.get $v)))
        ;; most blocks hold neither "\n" nor "R": one test skips them
        (local.set $mask
          (i8x16.bitmask
            (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 10)))
              (i8x16.eq (local.get $v) (i8x16.splat (i32.const 82))))))
        (if (local.get $mask)
          (then
            ;; bit i: byte p+i is "\n", or starts "Ru"
            (local.set $mask
              (i32.or
                (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 10))))
                (i32.and
                  (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 82))))
                  (i8x16.bitmask (i8x16.eq (v128.load offset=1 (local.get $p)) (i8x16.splat (i32.const 117)))))))))
        (if (i32.lt_u (i32.sub (local.get $end) (local.get $p)) (i32.const 16))
          (then
            (local.set $mask
              (i32.and (local.get $mask)
                (i32.sub (i32.shl (i32.const 1) (i32.sub (local.get $end) (local.get $p))) (i32.const 1))))))
        (block $bitsDone
          (loop $bits
            (br_if $bitsDone (i32.eqz (local.get $mask)))
            (local.set $q (i32.add (local.get $p) (i32.ctz (local.get $mask))))
            (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
            (if (i32.eq (i32.load8_u (local.get $q)) (i32.const 10))
              (then
                (if (i32.ge_u (i32.sub (local.get $q) (local.get $ls)) (local.get $maxLine))
                  (then (local.set $long (i32.add (local.get $long) (i32.const 1))))
                  (else
                    (if (i32.ge_s (local.get $run) (i32.const 0))
                      (then
                        (call $record
                          (i32.add (local.get $out) (i32.mul (local.get $n) (i32.const 40)))
                          (local.get $lines) (local.get $ls) (local.get $q) (local.get $run)
                          (local.get $prev) (local.get $prevCap))
                        (local.set $n (i32.add (local.get $n) (i32.const 1)))))))
                (local.set $lines (i32.add (local.get $lines) (i32.const 1)))
                (local.set $ls (i32.add (local.get $q) (i32.const 1)))
                (local.set $run (i32.const -1)))
              (else
                (if (i32.lt_s (local.get $run) (i32.const 0))
                  (then
                    (if (call $isRunning (local.get $q) (local.get $end))
                      (then (local.set $run (local.get $q))))))))
            (br $bits)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $blocks)))
    (global.set $lines (local.get $lines))
    (global.set $longLines (local.get $long))
    (global.set $lastEnd (local.get $ls))
    (global.set $highBytes (i32.ne (i8x16.bitmask (local.get $high)) (i32.const 0)))
    (local.get $n)))
