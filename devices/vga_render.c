/* Scan-out: turn the VGA/VBE state and VRAM into XRGB rows of a display.
 *
 * The CRTC model (IBM VGA Technical Reference, "CRT Controller Registers";
 * FreeVGA "CRTC Registers"): each output line shows CR01+1 character
 * clocks; vertical display end (CR12 with overflow bits) + 1 lines; the
 * memory address counter starts at CR0C:CR0D, advances one per character
 * clock (every 2 or 4 with count-by-two/four) and by 2 x CR13 per
 * character row of CR09[4:0]+1 scan lines (each line twice with double
 * scan, CR09 bit 7). The counter becomes a plane address in byte, word
 * (shifted left, MA13 or MA15 in bit 0) or doubleword (shifted left by 2)
 * mode, with row scan bits substituted for address bits 13/14 in the CGA
 * compatible modes (CR17 bits 0-1). The line compare register restarts
 * the address at 0 (split screen).
 *
 * Output pixels are screen dots: 8 or 9 per character clock, twice that
 * with the sequencer's half dot clock, so 320-pixel modes come out 640
 * wide and 200-line modes as the CRTC doubles them.
 *
 * Not modelled: horizontal pel panning and byte panning, preset row scan,
 * cursor skew and blinking (the cursor is steady), the overscan border.
 *
 * Change tracking: each line is rendered into a scratch row and compared
 * with what the display already shows; only differing spans are copied and
 * reported as damage. This also catches LFB writes that reach VRAM through
 * the guest's own mapping without any exit.
 */
#include "vga.h"

#include <string.h>

enum vga_kind {
    VGA_KIND_BLANK,
    VGA_KIND_TEXT,
    VGA_KIND_PLANAR,            /* 16 colours, one bit per plane per pixel */
    VGA_KIND_CGA4,              /* 4 colours, 2 bits per pixel (shift register interleave) */
    VGA_KIND_256,               /* one byte per pixel from the four planes in turn */
    VGA_KIND_VBE_PLANAR,        /* DISPI at 4 bpp */
    VGA_KIND_VBE_PACKED,        /* DISPI at 8/15/16/24/32 bpp */
};

struct vga_geom {
    enum vga_kind kind;
    unsigned width, height;     /* output, 1..DISPLAY_MAX_* */
    /* CRTC modes */
    unsigned cols;              /* character clocks per line */
    unsigned lines;             /* scan lines displayed */
    unsigned char_w;            /* dots per character clock */
    unsigned dot_dup;           /* 2 with the half dot clock */
    unsigned scan_dup;          /* 2 with double scan */
    unsigned row_h;             /* scan lines per character row */
    unsigned start;             /* start address */
    unsigned offset2;           /* address counter advance per row */
    unsigned line_compare;
    unsigned count_shift;       /* 0, 1 (count by two) or 2 (count by four) */
};

#define VGA_FONT_GLYPH_BYTES 32u

static bool vga_text_mode(const struct vga *v)
{
    return !vga_dispi_enabled(v) && !(v->gr[VGA_GR_MISC] & VGA_GR06_GRAPHICS);
}

static void vga_crtc_geom(const struct vga *v, struct vga_geom *g)
{
    const uint8_t *cr = v->cr;
    g->cols = cr[VGA_CR_HDISP_END] + 1u;
    g->lines = (cr[VGA_CR_VDISP_END] | (cr[VGA_CR_OVERFLOW] & 0x02u) << 7 |
                (cr[VGA_CR_OVERFLOW] & 0x40u) << 3) + 1u;
    g->row_h = (cr[VGA_CR_MAX_SCAN] & 0x1fu) + 1u;
    g->scan_dup = (cr[VGA_CR_MAX_SCAN] & 0x80) ? 2 : 1;
    g->dot_dup = (v->sr[VGA_SR_CLOCKING] & VGA_SR01_DOT_HALF) ? 2 : 1;
    g->char_w = vga_text_mode(v) && !(v->sr[VGA_SR_CLOCKING] & VGA_SR01_8DOT) ? 9 : 8;
    g->start = (unsigned)cr[VGA_CR_START_HI] << 8 | cr[VGA_CR_START_LO];
    g->offset2 = cr[VGA_CR_OFFSET] * 2u;
    g->line_compare = cr[VGA_CR_LINE_COMPARE] | (cr[VGA_CR_OVERFLOW] & 0x10u) << 4 |
                      (cr[VGA_CR_MAX_SCAN] & 0x40u) << 3;
    g->count_shift = (cr[VGA_CR_UNDERLINE] & VGA_CR14_COUNT4) ? 2 :
                     (cr[VGA_CR_MODE] & VGA_CR17_COUNT2) ? 1 : 0;
}

static unsigned vga_clamp(unsigned v, unsigned max)
{
    return v < 1 ? 1 : v > max ? max : v;
}

static void vga_render_geom(const struct vga *v, struct vga_geom *g)
{
    memset(g, 0, sizeof(*g));
    if (vga_dispi_enabled(v)) {
        unsigned xres = v->dispi[VBE_DISPI_INDEX_XRES];
        unsigned yres = v->dispi[VBE_DISPI_INDEX_YRES];
        if (!xres || !yres) {
            g->kind = VGA_KIND_BLANK;
            xres = 640;
            yres = 480;
        } else {
            g->kind = vga_dispi_bpp(v) == 4 ? VGA_KIND_VBE_PLANAR : VGA_KIND_VBE_PACKED;
        }
        g->width = vga_clamp(xres, DISPLAY_MAX_WIDTH);
        g->height = vga_clamp(yres, DISPLAY_MAX_HEIGHT);
    } else {
        vga_crtc_geom(v, g);
        if (vga_text_mode(v))
            g->kind = VGA_KIND_TEXT;
        else if (v->gr[VGA_GR_MODE] & VGA_GR05_256)
            g->kind = VGA_KIND_256;
        else if (v->gr[VGA_GR_MODE] & VGA_GR05_INTERLEAVE)
            g->kind = VGA_KIND_CGA4;
        else
            g->kind = VGA_KIND_PLANAR;
        g->width = vga_clamp(g->cols * g->char_w * g->dot_dup, DISPLAY_MAX_WIDTH);
        g->height = vga_clamp(g->lines, DISPLAY_MAX_HEIGHT);
    }
    /* Screen off (SR01 bit 5) or the palette handed to the CPU (attribute
     * index bit 5 clear): the monitor shows black. */
    if ((v->sr[VGA_SR_CLOCKING] & VGA_SR01_SCREEN_OFF) || !(v->ar_index & VGA_AR_INDEX_PAS))
        g->kind = VGA_KIND_BLANK;
}

/* The plane address the CRTC fetches for memory address counter `ma` on
 * row scan line `rs`. */
static unsigned vga_crtc_addr(const uint8_t *cr, unsigned ma, unsigned rs)
{
    unsigned a;
    if (cr[VGA_CR_UNDERLINE] & VGA_CR14_DWORD)
        a = ma << 2;
    else if (!(cr[VGA_CR_MODE] & VGA_CR17_BYTE_MODE))
        a = ma << 1 | ((ma >> ((cr[VGA_CR_MODE] & VGA_CR17_ADDR_WRAP) ? 15 : 13)) & 1);
    else
        a = ma;
    if (!(cr[VGA_CR_MODE] & VGA_CR17_CMS))
        a = (a & ~(1u << 13)) | (rs & 1) << 13;
    if (!(cr[VGA_CR_MODE] & VGA_CR17_SRS))
        a = (a & ~(1u << 14)) | ((rs >> 1) & 1) << 14;
    return a & (VGA_PLANE_SIZE - 1);
}

/* Where output line y fetches from: the row's first counter value and the
 * row scan line within the character row. */
static void vga_line_origin(const struct vga_geom *g, unsigned y, unsigned *row_ma, unsigned *rs)
{
    unsigned rel = y;
    unsigned start = g->start;
    if (y > g->line_compare) {
        rel = y - g->line_compare - 1;
        start = 0;
    }
    unsigned sl = rel / g->scan_dup;
    unsigned row = sl / g->row_h;
    *rs = sl % g->row_h;
    *row_ma = start + row * g->offset2;
}

static uint32_t vga_dac_to_xrgb(const uint8_t *rgb, bool dac8)
{
    uint32_t c[3];
    for (unsigned i = 0; i < 3; i++) {
        unsigned x = rgb[i];
        if (!dac8) {
            x &= 0x3f;
            x = x << 2 | x >> 4;    /* 6-bit DAC value to 8 bits */
        }
        c[i] = x;
    }
    return c[0] << 16 | c[1] << 8 | c[2];
}

/* The attribute controller's path from a 4-bit pixel value to a DAC index
 * (FreeVGA "Attribute Controller Registers": colour plane enable, palette
 * registers, P5/P4 from the colour select register when AR10 bit 7 is set,
 * P7/P6 always from it), then the pel mask. */
static unsigned vga_ac_index(const struct vga *v, unsigned val4)
{
    const uint8_t *ar = v->ar;
    unsigned p = ar[val4 & ar[VGA_AR_PLANE_ENABLE] & 0x0f];
    unsigned idx;
    if (ar[VGA_AR_MODE] & VGA_AR10_P54S)
        idx = (p & 0x0f) | (ar[VGA_AR_COLOR_SELECT] & 0x03u) << 4;
    else
        idx = p & 0x3f;
    idx |= (ar[VGA_AR_COLOR_SELECT] & 0x0cu) << 4;
    return idx & v->pel_mask;
}

void vga_screen_size(const struct vga *v, unsigned *width, unsigned *height)
{
    struct vga_geom g;
    vga_render_geom(v, &g);
    *width = g.width;
    *height = g.height;
}

static void vga_render_palette(struct vga *v)
{
    bool dac8 = v->dispi[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC;
    for (unsigned i = 0; i < 256; i++)
        v->dac_rgb[i] = vga_dac_to_xrgb(&v->palette[i * 3], dac8);
    for (unsigned i = 0; i < 16; i++)
        v->ac_rgb[i] = v->dac_rgb[vga_ac_index(v, i)];
}

/* Append `n` copies of colour at *x, never past width. */
static void vga_emit(uint32_t *line, unsigned *x, unsigned width, uint32_t colour, unsigned n)
{
    for (unsigned i = 0; i < n && *x < width; i++)
        line[(*x)++] = colour;
}

/* Font base in plane 2 of character map n (0-7): maps 0-3 at 16 KiB steps,
 * 4-7 at 8 KiB above them (FreeVGA "Character Map Select Register"). */
static unsigned vga_font_base(unsigned map)
{
    return (map & 3) * 0x4000u + ((map >> 2) & 1) * 0x2000u;
}

static void vga_render_text_line(struct vga *v, const struct vga_geom *g, unsigned y, uint32_t *line)
{
    const uint8_t *cr = v->cr;
    const uint8_t *vram = v->vram;
    unsigned row_ma, rs;
    vga_line_origin(g, y, &row_ma, &rs);

    /* Character map select: map A (attribute bit 3 set) in bits 5,3,2,
     * map B in bits 4,1,0; without extended memory only map 0 exists. */
    uint8_t sr3 = v->sr[VGA_SR_CHARMAP];
    unsigned map_a = ((sr3 >> 2) & 3) | ((sr3 >> 3) & 4);
    unsigned map_b = (sr3 & 3) | ((sr3 >> 2) & 4);
    if (!(v->sr[VGA_SR_MEMMODE] & VGA_SR04_EXT_MEM))
        map_a = map_b = 0;
    unsigned font_a = vga_font_base(map_a), font_b = vga_font_base(map_b);

    uint8_t ar10 = v->ar[VGA_AR_MODE];
    bool blink_enabled = ar10 & VGA_AR10_BLINK;
    bool blink_visible = !((v->frame >> 4) & 1);
    bool line_gfx = ar10 & VGA_AR10_LINE_GFX;
    bool underline = (ar10 & VGA_AR10_MONO) && rs == (cr[VGA_CR_UNDERLINE] & 0x1fu);

    unsigned cursor_ma = (unsigned)cr[VGA_CR_CURSOR_HI] << 8 | cr[VGA_CR_CURSOR_LO];
    unsigned cs = cr[VGA_CR_CURSOR_START] & 0x1f, ce = cr[VGA_CR_CURSOR_END] & 0x1f;
    bool cursor_line = !(cr[VGA_CR_CURSOR_START] & 0x20) && cs <= ce && rs >= cs && rs <= ce;

    unsigned x = 0;
    for (unsigned c = 0; c < g->cols && x < g->width; c++) {
        unsigned ma = (row_ma + (c >> g->count_shift)) & 0xffff;
        unsigned a = vga_crtc_addr(cr, ma, rs);
        unsigned ch = vram[a * 4 + 0];
        unsigned attr = vram[a * 4 + 1];
        unsigned glyph = 0;
        if (rs < VGA_FONT_GLYPH_BYTES) {
            unsigned ga = ((attr & 0x08) ? font_a : font_b) + ch * VGA_FONT_GLYPH_BYTES + rs;
            glyph = vram[(ga & (VGA_PLANE_SIZE - 1)) * 4 + 2];
        }
        unsigned fg = attr & 0x0f, bg = attr >> 4;
        if (blink_enabled) {
            bg &= 7;
            if ((attr & 0x80) && !blink_visible)
                fg = bg;
        }
        /* The ninth dot repeats the eighth only for the line-drawing
         * characters C0h-DFh when enabled; otherwise it is background. */
        unsigned ninth = (line_gfx && ch >= 0xc0 && ch <= 0xdf) ? (glyph & 1) : 0;
        if ((underline && (attr & 0x77) == 0x01) || (cursor_line && ma == cursor_ma)) {
            glyph = 0xff;
            ninth = 1;
        }
        uint32_t fgc = v->ac_rgb[fg], bgc = v->ac_rgb[bg];
        for (unsigned d = 0; d < g->char_w; d++) {
            unsigned bit = d < 8 ? (glyph >> (7 - d)) & 1 : ninth;
            vga_emit(line, &x, g->width, bit ? fgc : bgc, g->dot_dup);
        }
    }
    vga_emit(line, &x, g->width, 0, g->width);
}

static void vga_render_graphics_line(struct vga *v, const struct vga_geom *g, unsigned y, uint32_t *line)
{
    const uint8_t *cr = v->cr;
    const uint8_t *vram = v->vram;
    unsigned row_ma, rs;
    vga_line_origin(g, y, &row_ma, &rs);
    unsigned x = 0;
    for (unsigned c = 0; c < g->cols && x < g->width; c++) {
        unsigned ma = (row_ma + (c >> g->count_shift)) & 0xffff;
        const uint8_t *p = vram + vga_crtc_addr(cr, ma, rs) * 4;
        switch (g->kind) {
        case VGA_KIND_256:
            /* Four 8-bit pixels per character clock, two dots each. */
            for (unsigned i = 0; i < 4; i++)
                vga_emit(line, &x, g->width, v->dac_rgb[p[i] & v->pel_mask], 2 * g->dot_dup);
            break;
        case VGA_KIND_CGA4:
            /* Plane 0 then plane 1, four 2-bit pixels each, high bits first. */
            for (unsigned i = 0; i < 8; i++) {
                unsigned b = p[i >> 2];
                vga_emit(line, &x, g->width, v->ac_rgb[(b >> (6 - 2 * (i & 3))) & 3], g->dot_dup);
            }
            break;
        default:
            for (int b = 7; b >= 0; b--) {
                unsigned val = ((p[0] >> b) & 1) | ((p[1] >> b) & 1) << 1 |
                               ((p[2] >> b) & 1) << 2 | ((p[3] >> b) & 1) << 3;
                vga_emit(line, &x, g->width, v->ac_rgb[val], g->dot_dup);
            }
            break;
        }
    }
    vga_emit(line, &x, g->width, 0, g->width);
}

static void vga_render_vbe_planar_line(struct vga *v, const struct vga_geom *g, unsigned y, uint32_t *line)
{
    uint64_t pitch = ((uint64_t)v->dispi[VBE_DISPI_INDEX_VIRT_WIDTH] + 7) / 8;
    uint64_t row = ((uint64_t)v->dispi[VBE_DISPI_INDEX_Y_OFFSET] + y) * pitch;
    uint64_t limit = v->vram_size / 4;
    unsigned xoff = v->dispi[VBE_DISPI_INDEX_X_OFFSET];
    for (unsigned x = 0; x < g->width; x++) {
        uint64_t px = (uint64_t)xoff + x;
        uint64_t pa = row + px / 8;
        if (pa >= limit) {
            line[x] = 0;
            continue;
        }
        const uint8_t *p = v->vram + pa * 4;
        unsigned b = 7 - (unsigned)(px & 7);
        unsigned val = ((p[0] >> b) & 1) | ((p[1] >> b) & 1) << 1 |
                       ((p[2] >> b) & 1) << 2 | ((p[3] >> b) & 1) << 3;
        line[x] = v->ac_rgb[val];
    }
}

static uint32_t vga_expand5(unsigned x)
{
    return (x << 3) | (x >> 2);
}

static void vga_render_vbe_packed_line(struct vga *v, const struct vga_geom *g, unsigned y, uint32_t *line)
{
    unsigned bpp = vga_dispi_bpp(v);
    unsigned bytes = (bpp + 7) / 8;
    uint64_t pitch = (uint64_t)v->dispi[VBE_DISPI_INDEX_VIRT_WIDTH] * bytes;
    uint64_t start = ((uint64_t)v->dispi[VBE_DISPI_INDEX_Y_OFFSET] + y) * pitch +
                     (uint64_t)v->dispi[VBE_DISPI_INDEX_X_OFFSET] * bytes;
    /* Pixels that lie wholly inside VRAM; the rest show black. */
    unsigned n = 0;
    if (start < v->vram_size) {
        uint64_t fit = (v->vram_size - start) / bytes;
        n = fit < g->width ? (unsigned)fit : g->width;
    }
    const uint8_t *p = v->vram + (start < v->vram_size ? start : 0);
    /* One tight loop per depth: this runs over every pixel 30 times a
     * second, up to 2560x1600. */
    switch (bpp) {
    case 8:
        for (unsigned x = 0; x < n; x++)
            line[x] = v->dac_rgb[p[x] & v->pel_mask];
        break;
    case 15:
        for (unsigned x = 0; x < n; x++) {
            unsigned w = p[2 * x] | p[2 * x + 1] << 8;
            line[x] = vga_expand5((w >> 10) & 0x1f) << 16 | vga_expand5((w >> 5) & 0x1f) << 8 |
                      vga_expand5(w & 0x1f);
        }
        break;
    case 16:
        for (unsigned x = 0; x < n; x++) {
            unsigned w = p[2 * x] | p[2 * x + 1] << 8;
            unsigned g6 = (w >> 5) & 0x3f;
            line[x] = vga_expand5(w >> 11) << 16 | (g6 << 2 | g6 >> 4) << 8 | vga_expand5(w & 0x1f);
        }
        break;
    case 24:
        /* Blue, green, red in memory order. */
        for (unsigned x = 0; x < n; x++)
            line[x] = (uint32_t)p[3 * x + 2] << 16 | (uint32_t)p[3 * x + 1] << 8 | p[3 * x];
        break;
    default:
        /* 32: blue, green, red, unused: a little-endian XRGB word already. */
        memcpy(line, p, (size_t)n * 4);
        for (unsigned x = 0; x < n; x++)
            line[x] &= 0x00ffffffu;
        break;
    }
    for (unsigned x = n; x < g->width; x++)
        line[x] = 0;
}

/* Consecutive changed lines are reported as one rectangle spanning the
 * union of their changed columns. */
struct vga_damage_run {
    bool active;
    unsigned x0, x1;            /* inclusive */
    unsigned y0, y1;            /* y1 exclusive */
};

static void vga_damage_flush(struct display *d, struct vga_damage_run *run)
{
    if (run->active)
        display_damage(d, run->x0, run->y0, run->x1 - run->x0 + 1, run->y1 - run->y0);
    run->active = false;
}

static void vga_commit_line(struct display *d, unsigned y, const uint32_t *line,
                            struct vga_damage_run *run)
{
    uint32_t *row = display_row(d, y);
    unsigned w = d->width;
    if (!row)
        return;
    if (memcmp(row, line, (size_t)w * sizeof(*row)) == 0) {
        vga_damage_flush(d, run);
        return;
    }
    unsigned x0 = 0;
    while (row[x0] == line[x0])
        x0++;
    unsigned x1 = w - 1;
    while (row[x1] == line[x1])
        x1--;
    memcpy(row + x0, line + x0, (size_t)(x1 - x0 + 1) * sizeof(*row));
    if (run->active && run->y1 == y) {
        if (x0 < run->x0)
            run->x0 = x0;
        if (x1 > run->x1)
            run->x1 = x1;
        run->y1 = y + 1;
        return;
    }
    vga_damage_flush(d, run);
    *run = (struct vga_damage_run){ true, x0, x1, y, y + 1 };
}

void vga_render(struct vga *v, struct display *d)
{
    struct vga_geom g;
    vga_render_geom(v, &g);
    display_resize(d, g.width, g.height);
    /* display_resize clamps the same way, but never trust two copies. */
    g.width = d->width < g.width ? d->width : g.width;
    g.height = d->height < g.height ? d->height : g.height;
    v->frame++;
    vga_render_palette(v);
    struct vga_damage_run run = { 0 };
    for (unsigned y = 0; y < g.height; y++) {
        switch (g.kind) {
        case VGA_KIND_TEXT:
            vga_render_text_line(v, &g, y, v->line);
            break;
        case VGA_KIND_PLANAR:
        case VGA_KIND_CGA4:
        case VGA_KIND_256:
            vga_render_graphics_line(v, &g, y, v->line);
            break;
        case VGA_KIND_VBE_PLANAR:
            vga_render_vbe_planar_line(v, &g, y, v->line);
            break;
        case VGA_KIND_VBE_PACKED:
            vga_render_vbe_packed_line(v, &g, y, v->line);
            break;
        default:
            memset(v->line, 0, (size_t)g.width * sizeof(v->line[0]));
            break;
        }
        vga_commit_line(d, y, v->line, &run);
    }
    vga_damage_flush(d, &run);
}

/* CP437 to ASCII for vga_screen_text: printable ASCII as is, the blank
 * glyphs (00h, 20h, FFh) as spaces, everything else '?'. */
static char vga_cp437_ascii(unsigned ch)
{
    if (ch == 0x00 || ch == 0xff)
        return ' ';
    if (ch >= 0x20 && ch < 0x7f)
        return (char)ch;
    return '?';
}

int vga_screen_text(struct vga *v, char *buf, size_t cap)
{
    if (!vga_text_mode(v))
        return -1;
    struct vga_geom g;
    vga_crtc_geom(v, &g);
    unsigned rows = g.lines / g.scan_dup / g.row_h;
    size_t n = 0;
    for (unsigned r = 0; r < rows; r++) {
        for (unsigned c = 0; c <= g.cols; c++) {
            char out = '\n';
            if (c < g.cols) {
                unsigned ma = (g.start + r * g.offset2 + (c >> g.count_shift)) & 0xffff;
                out = vga_cp437_ascii(v->vram[vga_crtc_addr(v->cr, ma, 0) * 4]);
            }
            if (buf && n + 1 < cap)
                buf[n++] = out;
        }
    }
    if (buf && cap)
        buf[n] = '\0';
    return (int)n;
}
