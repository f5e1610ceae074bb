"""ShuffleNet's classifier for a Sphinx site.

Copy this file next to your conf.py and add to conf.py::

    import os, sys
    sys.path.insert(0, os.path.abspath('.'))
    extensions = ['shufflenet_sphinx']
    shufflenet_host = 'https://classifier.example.org'

then in any reStructuredText page::

    .. shufflenet:: _static/cat.jpg
       :alt: A cat
       :top: 3
       :heatmap:

Options: alt, model, top, theme (light or dark), and the flags heatmap,
upload, webcam (then the picture may be left out). The widget's script is
added to every page, as a module.
"""

from html import escape

from docutils import nodes
from docutils.parsers.rst import Directive, directives


class ShuffleNet(Directive):
    optional_arguments = 1
    option_spec = {
        'alt': directives.unchanged,
        'model': directives.unchanged,
        'top': directives.positive_int,
        'theme': lambda v: directives.choice(v, ('light', 'dark')),
        'heatmap': directives.flag,
        'upload': directives.flag,
        'webcam': directives.flag,
    }

    def run(self):
        attrs = ''.join(f' {name}="{escape(str(self.options[name]))}"'
                        for name in ('model', 'top', 'theme') if name in self.options)
        attrs += ''.join(f' {flag}' for flag in ('heatmap', 'upload', 'webcam') if flag in self.options)
        img = ''
        if self.arguments:
            # The picture's address from the built page, like an image's.
            env = self.state.document.settings.env
            src = self.arguments[0]
            if '://' not in src and not src.startswith('/'):
                src = '../' * env.docname.count('/') + src
            img = f'<img src="{escape(src)}" alt="{escape(self.options.get("alt", ""))}">'
        return [nodes.raw('', f'<shufflenet-classifier{attrs}>{img}</shufflenet-classifier>', format='html')]


def setup(app):
    app.add_config_value('shufflenet_host', '', 'html')
    app.add_directive('shufflenet', ShuffleNet)

    def add_script(app):
        app.add_js_file(app.config.shufflenet_host.rstrip('/') + '/embed.js', type='module')

    app.connect('builder-inited', add_script)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
