/* Editor helpers shared by every BMW CarData node, served once from the package's resources/ folder:
 * the rows every dialog shares (account, VIN with its picker, values, name), the VIN picker, the descriptor
 * picker, rows shown by a select, labels and error text. Every URL is relative, so it follows httpAdminRoot and
 * carries the editor's access token. Each node's editor file loads this script; it sets itself up once. */
(function () {
    'use strict';
    if (window.BmwCarDataEditor) return;
    var API = 'bmw-cardata/';
    var PREFIX = 'bmw-cardata-';

    /** A shared string: they live in the account's message catalog, under "bmw-cardata". */
    function sharedKey(module, key) {
        return module + '/' + PREFIX + 'account:bmw-cardata.' + key;
    }
    function moduleOf(type) {
        var def = RED.nodes.getType(type);
        return def && def.set ? def.set.module : 'node-red-contrib-bmw-cardata';
    }
    function shared(node, key, vars) {
        return RED._(sharedKey(moduleOf(node.type), key), vars);
    }

    function errorText(xhr) {
        var e = xhr && xhr.responseJSON && xhr.responseJSON.error;
        if (e) return e.message + (e.hint ? ' ' + e.hint : '');
        if (xhr && (xhr.status === 401 || xhr.status === 403)) return 'Not permitted (' + xhr.status + ').';
        return 'Request failed' + (xhr && xhr.status ? ' (' + xhr.status + ')' : '') + '.';
    }

    // Every request to the BMW CarData routes goes through these two: the runtime answers only requests that carry
    // this header, which a page on another site cannot send without asking the browser first. Routes that change
    // something take JSON only.
    var HEADERS = { 'BMW-CarData-Editor': '1' };
    function getJson(url, data) {
        return $.ajax({ url: url, method: 'GET', dataType: 'json', data: data, headers: HEADERS });
    }
    function postJson(url, data) {
        return $.ajax({ url: url, method: 'POST', contentType: 'application/json', dataType: 'json', data: JSON.stringify(data || {}), headers: HEADERS });
    }

    // Only an http(s) address is shown as a link: never javascript:, data: or the like.
    function isWebLink(value) {
        if (typeof value !== 'string' || !value) return false;
        try {
            var url = new URL(value);
            return (url.protocol === 'https:' || url.protocol === 'http:') && !!url.hostname;
        } catch {
            return false;
        }
    }

    // A stream broker address: empty (BMW's), or the schemes the stream accepts: mqtt(s), ws(s), tcp, ssl, tls.
    function isStreamUrl(v) {
        return !v || /^(mqtts?|wss?|tcp|ssl|tls):\/\/\S+$/i.test(v);
    }

    function accountOf(value) {
        return value && value !== '_ADD_' ? value : null;
    }

    // The rows the dialogs share. A template asks for them with <div class="form-row" data-bmw-cardata-row="...">;
    // the row keeps the element's classes. "vin" also adds the picker's row, "vins" is the stream's (any vehicle).
    function label(forId, icon, key) {
        return '<label' + (forId ? ' for="' + forId + '"' : '') + '><i class="fa ' + icon + '"></i> <span data-i18n="' + key + '"></span></label>';
    }
    var ROWS = {
        account: function (k) { return label('node-input-account', 'fa-user', k('label.account')) + '<input type="text" id="node-input-account">'; },
        vin: function (k) { return label('node-input-vin', 'fa-car', k('label.vin')) + '<input type="text" id="node-input-vin" style="width:calc(70% - 40px)" placeholder="msg.vin">'; },
        vins: function (k) { return label('node-input-vin', 'fa-car', k('label.vins')) + '<input type="text" id="node-input-vin" style="width:calc(70% - 40px)" data-i18n="[placeholder]' + k('tip.allVehicles') + '">'; },
        descriptors: function (k) { return label(null, 'fa-list-ul', k('label.descriptors')) + '<div class="bmw-cardata-descriptor-picker" style="display:inline-block;width:70%;vertical-align:top"></div>'; },
        cache: function (k) { return label('node-input-cacheMaxAge', 'fa-history', k('label.cacheMaxAge')) + '<input type="text" id="node-input-cacheMaxAge" style="width:70%" data-i18n="[placeholder]' + k('tip.cacheDefault') + '">'; },
        name: function (k) { return label('node-input-name', 'fa-tag', k('label.name')) + '<input type="text" id="node-input-name" data-i18n="[placeholder]' + k('label.name') + '">'; }
    };
    function fillRows(type) {
        var template = $('script[data-template-name="' + type + '"]');
        if (!template.length || template.html().indexOf('data-bmw-cardata-row') < 0) return;
        var module = moduleOf(type);
        var k = function (key) { return sharedKey(module, key); };
        var form = $('<div>').html(template.html());
        // data-bmw-cardata-row="account vin": one row each, in that order, each with the element's classes.
        form.find('[data-bmw-cardata-row]').each(function () {
            var first = $(this);
            var names = first.attr('data-bmw-cardata-row').split(/\s+/);
            var last = first.removeAttr('data-bmw-cardata-row');
            names.forEach(function (name, i) {
                var row = i === 0 ? first : first.clone().insertAfter(last);
                last = row.html(ROWS[name](k));
                if (name === 'vin' || name === 'vins') last = $('<div class="form-row bmw-cardata-vin-picker"></div>').insertAfter(row);
            });
        });
        template.html(form.html());
    }
    // Node-RED builds a dialog from its template: fill in the shared rows as soon as a node type is known.
    RED.events.on('registry:node-type-added', function (type) {
        if (type.indexOf(PREFIX) === 0) fillRows(type);
    });

    function vinPicker(node) {
        var t = function (key) { return shared(node, 'tip.' + key); };
        var row = $('.bmw-cardata-vin-picker').empty();
        $('<label>&nbsp;</label>').appendTo(row);
        var select = $('<select style="width:calc(70% - 40px)"></select>').appendTo(row);
        var refresh = $('<button type="button" class="red-ui-button" style="margin-left:4px"><i class="fa fa-refresh"></i></button>')
            .attr('title', t('refresh')).appendTo(row);
        var info = $('<div class="form-tips" style="margin:4px 0 0 104px;display:none"></div>').appendTo(row);

        function fill(vehicles, fetchedAt) {
            select.empty();
            var list = vehicles || [];
            $('<option value="">').text(list.length ? t('pick') : t('noVehicles')).appendTo(select);
            list.forEach(function (v) {
                var text = v.vin + (v.mappingType ? ' (' + v.mappingType + ')' : '');
                $('<option>').val(v.vin).text(text).prop('disabled', v.mappingType === 'SECONDARY').appendTo(select);
            });
            var current = $('#node-input-vin').val() || '';
            select.val(list.some(function (v) { return v.vin === current; }) ? current : '');
            select.attr('title', fetchedAt ? 'cached ' + new Date(fetchedAt).toLocaleString() : '');
        }
        function load() {
            var id = accountOf($('#node-input-account').val());
            info.hide();
            if (!id) { fill([]); return; }
            getJson(API + encodeURIComponent(id) + '/vehicles')
                .done(function (r) { fill(r.vehicles, r.fetchedAt); })
                .fail(function (xhr) { fill([]); info.text(errorText(xhr)).show(); });
        }
        select.on('change', function () {
            if ($(this).val()) $('#node-input-vin').val($(this).val());
        });
        refresh.on('click', function () {
            var id = accountOf($('#node-input-account').val());
            if (!id) return;
            refresh.prop('disabled', true);
            info.hide();
            postJson(API + encodeURIComponent(id) + '/vehicles/refresh')
                .done(function (r) { fill(r.vehicles, r.fetchedAt); })
                .fail(function (xhr) { info.text(errorText(xhr)).show(); })
                .always(function () { refresh.prop('disabled', false); });
        });
        $('#node-input-account').on('change', load);
        load();
    }

    function descriptorPicker(root, selected, node) {
        var t = function (key) { return shared(node, 'label.' + key); };
        root.empty();
        var initial = Array.isArray(selected) ? selected : String(selected || '').split(/[\s,;]+/);
        var chosen = {};
        initial.filter(Boolean).forEach(function (id) { chosen[id] = true; });
        var known = {};
        var names = {};
        var boxes = {};
        var search = $('<input type="text" style="width:100%">').attr('placeholder', t('search')).appendTo(root);
        var count = $('<div class="form-tips" style="margin:2px 0"></div>').appendTo(root);
        // What is picked, by name, each with a button that takes it out again.
        var picked = $('<div class="bmw-cardata-picked" style="margin:2px 0 4px"></div>').appendTo(root);
        var list = $('<div style="height:220px;overflow-y:auto;border:1px solid var(--red-ui-form-input-border-color,#ccc);border-radius:4px;padding:4px"></div>').appendTo(root);
        var other = $('<textarea rows="2" style="width:100%;margin-top:4px;font-family:monospace"></textarea>').attr('placeholder', t('otherKeys')).appendTo(root);

        function update() {
            count.text(Object.keys(chosen).length + ' ' + t('selected'));
            picked.empty();
            Object.keys(chosen).filter(function (id) { return known[id]; }).forEach(function (id) {
                var chip = $('<span class="red-ui-text-bidi-aware" style="display:inline-block;margin:0 4px 4px 0;padding:1px 6px;border:1px solid var(--red-ui-form-input-border-color,#ccc);border-radius:10px"></span>')
                    .attr('title', id).attr('data-id', id).text(names[id] || id).appendTo(picked);
                $('<a href="#" style="margin-left:6px" aria-label="remove"><i class="fa fa-times"></i></a>').on('click', function (e) {
                    e.preventDefault();
                    delete chosen[id];
                    if (boxes[id]) boxes[id].prop('checked', false);
                    update();
                }).appendTo(chip);
            });
        }
        function render(groups) {
            list.empty();
            groups.forEach(function (g) {
                var group = $('<div class="bmw-cardata-group"></div>').appendTo(list);
                $('<div style="font-weight:bold;margin-top:6px"></div>').text(g.category).attr('title', g.description || '').appendTo(group);
                g.descriptors.forEach(function (d) {
                    known[d.id] = true;
                    names[d.id] = d.name;
                    // The words people use ("state of charge", "Ladestand") are searched too; long keys wrap, never cut off.
                    var line = $('<label style="display:block;width:auto;margin:0 0 2px 0;white-space:normal;overflow-wrap:anywhere"></label>')
                        .attr('data-search', (d.id + ' ' + d.name + ' ' + g.category + ' ' + (d.words || []).join(' ')).toLowerCase()).appendTo(group);
                    boxes[d.id] = $('<input type="checkbox" style="width:auto;margin:0 6px 0 0">').prop('checked', !!chosen[d.id])
                        .on('change', function () {
                            if (this.checked) chosen[d.id] = true; else delete chosen[d.id];
                            update();
                        }).appendTo(line);
                    $('<span></span>').text(d.name + (d.unit ? ' [' + d.unit + ']' : '')).appendTo(line);
                    if (d.words && d.words.length) $('<i style="margin-left:6px;opacity:.8"></i>').text('(' + d.words.slice(0, 3).join(', ') + ')').appendTo(line);
                    $('<code style="margin-left:6px;opacity:.7;word-break:break-all"></code>').text(d.id).appendTo(line);
                });
            });
            other.val(Object.keys(chosen).filter(function (id) { return !known[id]; }).join('\n'));
            Object.keys(chosen).forEach(function (id) { if (!known[id]) delete chosen[id]; });
            update();
        }
        search.on('input', function () {
            var words = $(this).val().toLowerCase().split(/\s+/).filter(Boolean);
            list.find('.bmw-cardata-group').each(function () {
                var any = false;
                $(this).find('label').each(function () {
                    var hay = $(this).attr('data-search');
                    var show = words.every(function (w) { return hay.indexOf(w) >= 0; });
                    $(this).toggle(show);
                    any = any || show;
                });
                $(this).toggle(any);
            });
        });
        getJson(API + 'catalogue').done(render).fail(function (xhr) {
            list.text(errorText(xhr));
            other.val(Object.keys(chosen).join('\n'));
            chosen = {};
        });
        update();
        return {
            selected: function () {
                var ids = Object.keys(chosen);
                other.val().split(/[\s,;]+/).forEach(function (id) { if (id && ids.indexOf(id) < 0) ids.push(id); });
                return ids;
            }
        };
    }

    // Rows shown for some values of a select: <div class="form-row" data-bmw-cardata-when="operation=get,delete">.
    // A node saved before the select existed has no value for it: the dialog starts from the default.
    function showWhen(node) {
        var rows = $('[data-bmw-cardata-when]');
        var selects = {};
        rows.each(function () { selects[$(this).attr('data-bmw-cardata-when').split('=')[0]] = true; });
        Object.keys(selects).forEach(function (prop) {
            var select = $('#node-input-' + prop);
            if (!select.val() && node._def.defaults[prop]) select.val(node._def.defaults[prop].value);
            select.on('change', function () {
                var value = $(this).val();
                rows.each(function () {
                    var when = $(this).attr('data-bmw-cardata-when').split('=');
                    if (when[0] === prop) $(this).toggle(when[1].split(',').indexOf(value) >= 0);
                });
            }).trigger('change');
        });
    }

    /** oneditprepare of the action nodes: the pickers and rows their dialog holds. */
    function prepare() {
        if ($('.bmw-cardata-vin-picker').length) vinPicker(this);
        var picker = $('.bmw-cardata-descriptor-picker');
        if (picker.length) this._descriptorPicker = descriptorPicker(picker, this.descriptors, this);
        showWhen(this);
    }
    /** oneditsave: the picked values. */
    function save() {
        if (this._descriptorPicker) this.descriptors = this._descriptorPicker.selected();
        delete this._descriptorPicker;
    }
    function cancel() {
        delete this._descriptorPicker;
    }

    window.BmwCarDataEditor = {
        API: API,
        errorText: errorText,
        getJson: getJson,
        postJson: postJson,
        isWebLink: isWebLink,
        isStreamUrl: isStreamUrl,
        vinPicker: vinPicker,
        descriptorPicker: descriptorPicker,
        prepare: prepare,
        save: save,
        cancel: cancel,
        // "Answer from cache up to": empty, 0, a number of seconds, or a number with s, m, h or d (core's parseMaxAge).
        validMaxAge: function (v) { return v === undefined || /^\s*(\d+(\.\d+)?\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)?)?\s*$/i.test(String(v)); },
        // The palette name from the node's catalog; on the canvas "BMW <palette name>" unless the node has a name.
        paletteLabel: function () { return this._(this.type + '.paletteLabel'); },
        label: function () { return this.name || 'BMW ' + this._(this.type + '.paletteLabel'); },
        labelStyle: function () { return this.name ? 'node_label_italic' : ''; }
    };
})();
