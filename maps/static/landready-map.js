/* landready map client: viewport loading, parcel cards, search, legend, summary, GCJ-02 display shift.
 * Configured entirely by the page (labels included); fetches only from the server that served it. */
(function () {
  "use strict";

  var state = (window.__lr = { requests: [], drawn: {}, firstDrawAt: null, firstDraw: {}, ready: false, lastCard: null });

  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // ---- GCJ-02 (FORMATS.md §3.2, a = 6378245): display-only shift for AMap basemaps ----
  var GCJ_A = 6378245.0, GCJ_EE = 0.00669342162296594323;
  function outOfChina(lng, lat) {
    return !(lng >= 72.004 && lng <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
    r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
    r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
    return r;
  }
  function tLng(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
    r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
    r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
    return r;
  }
  function wgs84ToGcj02(lng, lat) {
    if (outOfChina(lng, lat)) return [lng, lat];
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    var radLat = (lat / 180) * Math.PI, m = 1 - GCJ_EE * Math.sin(radLat) * Math.sin(radLat), sm = Math.sqrt(m);
    dLat = (dLat * 180) / (((GCJ_A * (1 - GCJ_EE)) / (m * sm)) * Math.PI);
    dLng = (dLng * 180) / ((GCJ_A / sm) * Math.cos(radLat) * Math.PI);
    return [lng + dLng, lat + dLat];
  }

  var LR = (window.LandreadyMap = { wgs84ToGcj02: wgs84ToGcj02 });

  LR.init = function (map, groups, cfg, control) {
    var t = cfg.t, shift = false, layers = {}, notice;
    state.map = map;
    state.layers = layers;
    L.control.scale({ imperial: false }).addTo(map);  // metres only

    function toLatLng(c) {
      if (shift) { var g = wgs84ToGcj02(c[0], c[1]); return L.latLng(g[1], g[0]); }
      return L.latLng(c[1], c[0]);
    }
    function boundsLatLng(b) { return L.latLngBounds(toLatLng([b[0], b[1]]), toLatLng([b[2], b[3]])); }

    // ---- cards ----
    function rowsTable(rows) {
      if (!rows || !rows.length) return "";
      return '<table class="lr-rows">' + rows.map(function (r) {
        return "<tr><th>" + esc(r[0]) + "</th><td>" + esc(r[1]) + "</td></tr>";
      }).join("") + "</table>";
    }
    function renderCard(c) {
      if (c.kind !== "parcel") {
        return '<div class="lr-card lr-feature"><h3>' + esc(c.title) + "</h3>" + rowsTable(c.rows) + "</div>";
      }
      var h = '<div class="lr-card" data-parcel-id="' + esc(c.id) + '"><h3>' + esc(c.id) +
        (c.name ? " · " + esc(c.name) : "") + "</h3>";
      h += '<div class="lr-area"><b>' + esc(t["card.area"]) + "</b> " +
        (c.area.mu === null ? "—" : esc(c.area.mu.toLocaleString()) + " " + esc(t.mu) + " / " +
          esc(c.area.ha.toLocaleString()) + " " + esc(t.ha)) + "</div>";
      h += rowsTable(c.status) + rowsTable(c.dates);
      h += "<h4>" + esc(t["card.findings"]) + "</h4>";
      if (!c.findings.length) h += '<div class="lr-none">' + esc(t["card.no_findings"]) + "</div>";
      c.findings.forEach(function (f) {
        h += '<div class="lr-finding" data-finding="' + esc(f.key) + '"><div class="lr-finding-title">' +
          esc(f.label) + "</div>" + rowsTable(f.evidence);
        if (f.action) h += '<div class="lr-action"><b>' + esc(t["card.action"]) + "</b> " + esc(f.action) + "</div>";
        f.rules.forEach(function (r) {
          h += '<div class="lr-rule"><b>' + esc(t["card.rule"]) + "</b> " + esc(r) + "</div>";
        });
        h += "</div>";
      });
      if (c.rule_refs && c.rule_refs.length) {
        h += '<div class="lr-rule-refs"><b>' + esc(t["card.rule_refs"]) + "</b><ul>" +
          c.rule_refs.map(function (r) { return "<li>" + esc(r) + "</li>"; }).join("") + "</ul></div>";
      }
      if (c.missing_inputs && c.missing_inputs.length) {
        h += '<div class="lr-missing-inputs"><b>' + esc(t["card.missing_inputs"]) + "</b> " +
          esc(c.missing_inputs.join(", ")) + "</div>";
      }
      if (c.readiness) {
        var r = c.readiness;
        h += '<h4>' + esc(t["card.readiness"]) + '</h4><div class="lr-tier lr-tier-' + esc(r.tier) + '">' +
          esc(r.tier_label) + (r.score === null ? "" : " · " + esc(t["card.score"]) + " " + esc(r.score)) +
          (r.served_by ? " · " + esc(r.served_by) : "") + "</div><ul class=\"lr-checklist\">";
        r.checklist.forEach(function (i) {
          h += '<li class="' + (i.ok ? "lr-ok" : "lr-miss") + '" data-code="' + esc(i.code) + '">' +
            (i.ok ? "✓ " : "✗ ") + esc(i.label) +
            (i.ok ? "" : ' <span class="lr-dept">' + esc(t["card.department"]) + ": " + esc(i.department || "—") +
              "</span>" + (i.evidence ? '<div class="lr-evidence">' + esc(i.evidence) + "</div>" : "")) + "</li>";
        });
        h += "</ul>";
      }
      if (typeof cfg.links === "string") {
        h += '<div class="lr-links"><a href="' + esc(cfg.links + c.links.geojson) + '" target="_blank">' +
          esc(t["card.geojson"]) + '</a> · <a href="' + esc(cfg.links + c.links.history) + '" target="_blank">' +
          esc(t["card.history"]) + "</a></div>";
      }
      return h + "</div>";
    }
    function openCard(layerId, id, latlng) {
      var lc = layers[layerId].cfg, key = lc.parcelCard ? "parcels" : layerId;
      var popup = L.popup({ maxWidth: 400, minWidth: 280, maxHeight: 460, className: "lr-card-popup" })
        .setLatLng(latlng).setContent(esc(t.loading)).openOn(map);
      function show(card) { state.lastCard = card; popup.setContent(renderCard(card)); }
      if (cfg.cards) {
        var c = (cfg.cards[key] || {})[id];
        if (c) show(c);
        return;
      }
      fetch(cfg.endpoints.card + key + "/" + encodeURIComponent(id) + "?lang=" + cfg.lang)
        .then(function (r) { return r.json(); }).then(show);
    }

    // ---- layers ----
    function styleFor(lc) {
      return function (f) {
        // a class may carry a status after a colon ("power:planned"): same colour, dashed
        var parts = String(f.properties.c).split(":");
        var colour = lc.palette[parts[0]] || lc.palette[""] || "#888";
        return { color: colour, fillColor: colour, weight: lc.weight, fillOpacity: lc.fillOpacity,
          opacity: 0.9, dashArray: parts[1] === "planned" ? "6 5" : lc.dash || null };
      };
    }
    function makeLayer(lc) {
      var lay = { cfg: lc, group: groups[lc.id], seen: {}, tiles: {}, zoom: null, gen: 0 };
      lay.geo = L.geoJSON(null, {
        style: styleFor(lc),
        coordsToLatLng: toLatLng,
        onEachFeature: function (f, l) {
          var p = f.properties, parts = String(p.c).split(":");
          var cls = lc.labelPrefix && parts[0] ? t[lc.labelPrefix + "." + parts[0]] || parts[0] : "";
          if (parts[1]) cls += " (" + (t["infra_status." + parts[1]] || parts[1]) + ")";
          var tip = [p.id && lc.parcelCard ? p.id : "", p.n, cls].filter(Boolean).join(" · ");
          if (tip) l.bindTooltip(esc(tip), { sticky: true });
          l.on("click", function (e) { L.DomEvent.stopPropagation(e); openCard(lc.id, p.id, e.latlng); });
        },
      });
      lay.group.addLayer(lay.geo);
      layers[lc.id] = lay;
      return lay;
    }
    function addFeatures(lay, fc) {
      var fresh = fc.features.filter(function (f) {
        if (lay.seen[f.properties.id]) return false;
        lay.seen[f.properties.id] = true;
        return true;
      });
      if (fresh.length) {
        lay.geo.addData({ type: "FeatureCollection", features: fresh });
        state.drawn[lay.cfg.id] = (state.drawn[lay.cfg.id] || 0) + fresh.length;
        restack(lay);
        if (state.firstDrawAt === null) state.firstDrawAt = performance.now();
        if (!(lay.cfg.id in state.firstDraw)) state.firstDraw[lay.cfg.id] = performance.now();
      }
    }
    // one canvas holds every layer: keep layers stacked by z so parcels stay above the areas they sit in
    function restack(lay) {
      Object.keys(layers).map(function (k) { return layers[k]; })
        .filter(function (o) { return o.cfg.z > lay.cfg.z && map.hasLayer(o.group); })
        .sort(function (a, b) { return a.cfg.z - b.cfg.z; })
        .forEach(function (o) { o.geo.bringToFront(); });
    }
    function loadInline(lay) {
      lay.geo.clearLayers(); lay.seen = {};
      if (lay.cfg.data) addFeatures(lay, lay.cfg.data);
    }
    function tileBox(z, x, y, size) {
      var nw = map.unproject([x * size, y * size], z), se = map.unproject([(x + 1) * size, (y + 1) * size], z);
      var pad = shift ? 0.01 : 0; // screen shows GCJ-02: ask for a slightly larger WGS84 box
      return [nw.lng - pad, se.lat - pad, se.lng + pad, nw.lat + pad].map(function (v) { return +v.toFixed(7); });
    }
    // One request per 512-px tile not loaded yet, for all the shown viewport layers that lack it: a pan asks
    // only for the tiles that came into view, a layer switched on only for itself.
    function refreshAll() {
      var z = Math.round(map.getZoom()), size = 512, pb = map.getPixelBounds(), anyTruncated = false, pending = 0;
      var active = Object.keys(layers).map(function (k) { return layers[k]; }).filter(function (l) {
        return map.hasLayer(l.group) && !l.cfg.data;
      });
      active.forEach(function (l) {
        if (l.zoom !== z) { l.geo.clearLayers(); l.seen = {}; l.tiles = {}; l.zoom = z; l.gen++; }
      });
      var x0 = Math.floor(pb.min.x / size), x1 = Math.floor((pb.max.x - 1) / size);
      var y0 = Math.floor(pb.min.y / size), y1 = Math.floor((pb.max.y - 1) / size);
      // centre tiles first: what the planner looks at arrives first
      var cx = (pb.min.x + pb.max.x) / 2 / size - 0.5, cy = (pb.min.y + pb.max.y) / 2 / size - 0.5, grid = [];
      for (var gx = x0; gx <= x1; gx++) for (var gy = y0; gy <= y1; gy++) grid.push([gx, gy]);
      grid.sort(function (a, b) { return Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy); });
      grid.forEach(function (cell) {
        let x = cell[0], y = cell[1];
        let key = z + "/" + x + "/" + y;
        let want = active.filter(function (l) { return !l.tiles[key]; });
        if (!want.length) return;
        let gens = want.map(function (l) { l.tiles[key] = true; return l.gen; });
        let ids = want.map(function (l) { return l.cfg.id; });
        let box = tileBox(z, x, y, size);
        let rec = { layers: ids, tile: key, bbox: box, zoom: z, at: performance.now() };
        state.requests.push(rec);
        pending++;
        fetch(cfg.endpoints.features + ids.join(",") + "?bbox=" + box.join(",") + "&zoom=" + z)
          .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
          .then(function (body) {
            var byLayer = ids.length === 1 ? {} : body;
            if (ids.length === 1) byLayer[ids[0]] = body;
            rec.ms = performance.now() - rec.at;
            rec.count = 0;
            want.forEach(function (l, i) {
              var fc = byLayer[l.cfg.id];
              rec.count += fc.features.length;
              if (fc.truncated) anyTruncated = true;
              if (l.gen === gens[i]) addFeatures(l, fc);
            });
          })
          .catch(function () {
            want.forEach(function (l) { delete l.tiles[key]; }); // asked again on the next move
          })
          .finally(function () {
            pending--;
            if (!pending) notice.show(anyTruncated ? t.truncated : "");
          });
      });
    }

    cfg.layers.forEach(function (lc) { var lay = makeLayer(lc); if (lc.data) loadInline(lay); });

    // ---- controls ----
    var Notice = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () { this._div = L.DomUtil.create("div", "lr-notice"); this._div.style.display = "none"; return this._div; },
      show: function (text) { this._div.textContent = text; this._div.style.display = text ? "" : "none"; },
    });
    notice = new Notice().addTo(map);

    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        this._div = L.DomUtil.create("div", "lr-legend");
        L.DomEvent.disableScrollPropagation(this._div);
        return this._div;
      },
      update: function () {
        var h = "<b>" + esc(t.legend) + "</b>";
        cfg.layers.forEach(function (lc) {
          if (!map.hasLayer(groups[lc.id])) return;
          h += '<div class="lr-legend-layer" data-layer="' + esc(lc.id) + '"><div class="lr-legend-title">' +
            esc(t["layer." + lc.id]) + "</div>";
          Object.keys(lc.palette).forEach(function (k) {
            var name = k ? t[lc.labelPrefix + "." + k] || k : t["layer." + lc.id];
            // outlines and lines are drawn as a stroke (dashed where the map dashes them), areas as a swatch
            var swatch = lc.line
              ? "background:none;height:0;border:0;border-top:" + Math.max(2, lc.weight) + "px " +
                (lc.dash ? "dashed " : "solid ") + lc.palette[k]
              : "background:" + lc.palette[k];
            h += '<div class="lr-legend-item"><i style="' + swatch + '"></i>' + esc(name) + "</div>";
          });
          h += "</div>";
        });
        this._div.innerHTML = h;
      },
    });
    var legend = new Legend().addTo(map);
    legend.update();

    var Search = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var div = L.DomUtil.create("div", "lr-search");
        div.innerHTML = '<input type="search" placeholder="' + esc(t.search) + '" aria-label="' + esc(t.search) +
          '"><ul class="lr-search-results"></ul>';
        L.DomEvent.disableClickPropagation(div);
        var input = div.querySelector("input"), list = div.querySelector("ul"), timer = null, hits = [], hitsFor = null;
        function go(hit) {
          list.innerHTML = "";
          var b = boundsLatLng(hit.bbox);
          state.lastSearch = hit.id;
          map.once("moveend", function () { openCard("parcels", hit.id, b.getCenter()); });
          map.fitBounds(b, { maxZoom: 18, padding: [40, 40], animate: false });
        }
        function decisive(q) { return hits.length && (hits[0].id === q || hits.length === 1); }
        function show(results, q, thenGo) {
          hits = results; hitsFor = q;
          if (thenGo && decisive(q)) { go(hits[0]); return; }
          list.innerHTML = results.length ? "" : "<li class=\"lr-empty\">" + esc(t.search_none) + "</li>";
          results.forEach(function (hit) {
            var li = L.DomUtil.create("li", "", list);
            li.textContent = hit.id + (hit.name ? " · " + hit.name : "");
            // stop here: the list is emptied by go(), and a detached target would reach the map as a map click
            li.onclick = function (e) { L.DomEvent.stop(e); go(hit); };
          });
        }
        function find(q, thenGo) {
          if (!q) { hits = []; hitsFor = q; list.innerHTML = ""; return; }
          if (cfg.searchIndex) {
            var low = q.toLowerCase(), out = [];
            for (var i = 0; i < cfg.searchIndex.length && out.length < 10; i++) {
              var s = cfg.searchIndex[i];
              if ((s[0] + " " + s[1]).toLowerCase().indexOf(low) >= 0) out.push({ id: s[0], name: s[1], bbox: s.slice(2) });
            }
            out.sort(function (a, b) { return (b.id === q) - (a.id === q); });
            show(out, q, thenGo);
            return;
          }
          fetch(cfg.endpoints.search + "?q=" + encodeURIComponent(q)).then(function (r) { return r.json(); })
            .then(function (results) { if (input.value.trim() === q) show(results, q, thenGo); });
        }
        input.addEventListener("input", function () {
          clearTimeout(timer);
          timer = setTimeout(function () { find(input.value.trim(), false); }, 200);
        });
        input.addEventListener("keydown", function (e) {
          if (e.key !== "Enter") return;
          clearTimeout(timer);
          var q = input.value.trim();
          if (hitsFor === q && decisive(q)) go(hits[0]); else find(q, true);
        });
        return div;
      },
    });
    new Search().addTo(map);
    if (cfg.summaryHtml) {
      var Summary = L.Control.extend({
        options: { position: "topleft" },
        onAdd: function () {
          var div = L.DomUtil.create("div", "lr-summary");
          div.innerHTML = '<div class="lr-summary-head"><b>' + esc(t.summary) +
            "</b>" + (cfg.langUrl ? '<a class="lr-lang" href="' + esc(cfg.langUrl) + '">' + esc(t.lang_switch) + "</a>" : "") +
            '<button type="button" class="lr-toggle" aria-label="' + esc(t.close) + '">–</button></div>' +
            cfg.summaryHtml;
          L.DomEvent.disableClickPropagation(div);
          L.DomEvent.disableScrollPropagation(div);
          div.querySelector(".lr-toggle").onclick = function () { div.classList.toggle("lr-collapsed"); };
          return div;
        },
      });
      new Summary().addTo(map);
    }


    // "no basemap" among the base layers, and the default unless the local hillshade is on
    if (control && control._layers.some(function (l) { return !l.overlay; })) {
      var blank = L.layerGroup();
      control.addBaseLayer(blank, t.basemap_none);
      if (!control._layers.some(function (l) { return !l.overlay && map.hasLayer(l.layer); })) blank.addTo(map);
    }
    // fit without animation so the first viewport requests are made at the final zoom
    if (cfg.bounds) map.fitBounds(cfg.bounds, { animate: false });
    map.on("moveend", refreshAll);
    map.on("overlayadd", function (e) {
      Object.keys(layers).forEach(function (k) {
        if (layers[k].group === e.layer) { refreshAll(); restack(layers[k]); }
      });
      legend.update();
    });
    map.on("overlayremove", function () { legend.update(); });
    // a closed popup fades out for 200 ms before Leaflet removes it: meanwhile it is invisible but would still
    // take a click meant for the feature under it (a planner closing one card and clicking the next parcel)
    map.on("popupclose", function (e) {
      var el = e.popup.getElement();
      if (el) L.DomUtil.addClass(el, "lr-closing");
    });
    map.on("popupopen", function (e) {
      var el = e.popup.getElement();
      if (el) L.DomUtil.removeClass(el, "lr-closing");
    });
    map.on("baselayerchange", function (e) {
      var want = !!(e.layer.options && e.layer.options.gcj02);
      if (want === shift) return;
      shift = want;
      Object.keys(layers).forEach(function (k) {
        var lay = layers[k];
        if (lay.cfg.data) loadInline(lay); else lay.zoom = null;
      });
      refreshAll();
    });
    refreshAll();
    state.ready = true;
  };
})();
